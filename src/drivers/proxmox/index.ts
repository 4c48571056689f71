export { createProxmoxDriver, type ProxmoxDriverOptions } from './driver.js';
export { PROXMOX_CAPABILITIES, PROXMOX_DRIVER_NAME } from './capabilities.js';
