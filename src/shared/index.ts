export {
  catalogue,
  EXIT,
  PolyvisorError,
  fail,
  isPolyvisorError,
  isErrorCode,
  exitCodeFor,
  renderErrorDocs,
  type CatalogueEntry,
  type ErrorCode,
  type ErrorOptions,
} from './errors.js';
export { timeoutSignal, anySignal, throwIfAborted, abortError, sleep, waitFor } from './abort.js';
export { WorkDeadline, mibOf, type WorkDeadlineOptions } from './work-deadline.js';
export { NAME_PATTERN, NAME_RULE, isValidName, validateName, validateAbsolutePath, safeJoin } from './names.js';
export { newUuid, newId } from './ids.js';
export { writeFileAtomic, fsyncDir } from './atomic-file.js';
export { silentLogger, REDACT_KEYS, type Logger } from './logger.js';
export { withLogContext, currentLogContext, type LogContext } from './log-context.js';
export { withCaller, currentCaller, type Caller } from './caller-context.js';
export {
  findExecutable,
  run,
  runChecked,
  liveChildren,
  pidAlive,
  pidArgv,
  signalPid,
  type RunOptions,
  type RunResult,
} from './spawn.js';
export { defaultStateDir, socketIn, DEFAULT_LISTEN } from './defaults.js';
export { isLoopbackHost } from './loopback.js';
export { VERSION } from './version.js';
export { ROLES, type Role } from './roles.js';
export { openAddressGate, plainAddress, type AddressGate } from './address-gate.js';
