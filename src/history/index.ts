/** Resource history: the 10 s and 1 min rings of the host's and each VM's figures, on disk, and their queries. */
export { HistoryRecorder, VM_COLUMNS, HOST_COLUMNS, type HistorySource, type HistoryReadings, type RecorderOptions } from './recorder.js';
export { HistoryDb, type StoredPoint } from './history-db.js';
export { vmFigures, hostFigures, type VmReading, type HostReading, type VmFigures, type HostFigures } from './rates.js';
export { MinuteAverager, average } from './consolidate.js';
export { FINE, COARSE, tierOf, stepStart, slotOf } from './tiers.js';
