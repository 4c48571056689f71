export { createHypervDriver, type HypervDriverOptions } from './driver.js';
export { HYPERV_CAPABILITIES, HYPERV_DRIVER_NAME } from './capabilities.js';
