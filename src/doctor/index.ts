export { runDoctor } from './doctor.js';
export { parseVersion } from './host-checks.js';
export { fix, type DoctorDeps, type DoctorReport, type Finding, type Fix, type QemuUserView, type Severity } from './types.js';
