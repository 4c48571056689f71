export { createQemuDriver, type QemuDriver, type QemuDriverOptions } from './driver.js';
export { buildQemuArgv, bootIndexes, memoryArg, type ArgvEnv, type OvmfFiles } from './argv.js';
export { probeAccel, runProbeGuest, qemuVersion, PROBE_TIMEOUT_MS, type ProbeAccelOptions, type ProbeRun } from './accel.js';
export { runtimeFiles, FILE_NAMES, MAX_SOCKET_PATH_BYTES } from './files.js';
export { findOvmf, OVMF_CANDIDATES } from './firmware.js';
export { diskNodes, netIds, stableMac, type DiskNodes } from './names.js';
export { QemuInstance } from './instance.js';
export { VmCgroups, cgroupLimits, type CgroupLimits } from './cgroups.js';
export { QEMU_CAPABILITIES, QEMU_DRIVER_NAME } from './capabilities.js';
