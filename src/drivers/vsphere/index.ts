export { createVsphereDriver, VSPHERE_CAPABILITIES, type VsphereDriverOptions } from './driver.js';
export type { VsphereSession } from './session.js';
export type { VsphereInfo } from './inventory.js';
