export { createXcpngDriver, type XcpngDriverOptions } from './driver.js';
export { XCPNG_CAPABILITIES, XCPNG_DRIVER_NAME } from './capabilities.js';
