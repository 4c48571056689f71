/**
 * XAPI's failures mapped to the catalogue. XAPI answers a failed call with
 * an error code and string parameters (["VM_BAD_POWER_STATE", vm,
 * "halted", "running"]; datamodel_errors.ml names them); a failed task
 * carries the same in error_info. The code and its parameters stay in the
 * error's details (`xapi`).
 */
import { PolyvisorError, type ErrorCode } from '../../shared/index.js';
import { transportFailure } from '../transport-codes.js';

/** A XAPI error answer, before mapping (the client retries SESSION_INVALID once). */
export class XapiError extends Error {
  constructor(readonly code: string, readonly params: string[]) {
    super(`${code}${params.length ? ` ${JSON.stringify(params)}` : ''}`);
  }
}

const MAP: Record<string, ErrorCode> = {
  SESSION_AUTHENTICATION_FAILED: 'ENDPOINT_AUTH_FAILED',
  SESSION_INVALID: 'ENDPOINT_AUTH_FAILED',
  RBAC_PERMISSION_DENIED: 'ENDPOINT_AUTH_FAILED',
  VM_BAD_POWER_STATE: 'INVALID_TRANSITION',
  VM_IS_TEMPLATE: 'INVALID_ARGUMENT',
  OTHER_OPERATION_IN_PROGRESS: 'VM_BUSY',
  MEMORY_CONSTRAINT_VIOLATION: 'INVALID_ARGUMENT',
  VALUE_NOT_SUPPORTED: 'INVALID_ARGUMENT',
  FIELD_TYPE_ERROR: 'ENDPOINT_PROTOCOL',
  MESSAGE_METHOD_UNKNOWN: 'ENDPOINT_PROTOCOL',
  MESSAGE_PARAMETER_COUNT_MISMATCH: 'ENDPOINT_PROTOCOL',
  HOST_IS_SLAVE: 'ENDPOINT_PROTOCOL',
  HOST_NOT_ENOUGH_FREE_MEMORY: 'ENDPOINT_TASK_FAILED',
};

function sentence(e: XapiError): string {
  const p = e.params;
  switch (e.code) {
    case 'VM_BAD_POWER_STATE':
      return `the VM is ${p[2] ?? '?'}; this needs it ${p[1] ?? '?'}`;
    case 'SESSION_AUTHENTICATION_FAILED':
      return `login as ${p[0] ?? '?'} refused: ${p[1] ?? 'authentication failure'}`;
    case 'HANDLE_INVALID':
      return `no ${p[0] ?? 'object'} ${p[1] ?? ''} (it was removed)`;
    case 'HOST_IS_SLAVE':
      return `this host is not the pool master; the master is ${p[0] ?? '?'}`;
    default:
      return `${e.code}${p.length ? ` (${p.join(', ')})` : ''}`;
  }
}

/** The catalogue error for a XAPI failure of `what` on `endpoint`. */
export function xapiFailure(endpoint: string, what: string, e: XapiError): PolyvisorError {
  let code: ErrorCode = MAP[e.code] ?? 'ENDPOINT_TASK_FAILED';
  if (e.code === 'HANDLE_INVALID' && e.params[0] === 'VM') code = 'FOREIGN_VM_NOT_FOUND';
  const hint = e.code === 'HOST_IS_SLAVE' ? `Give the pool master's address as the endpoint URL (https://${e.params[0] ?? 'MASTER'}): XAPI serves a pool only there.` : undefined;
  return new PolyvisorError(code, `XCP-ng endpoint ${endpoint}: ${what} failed: ${sentence(e)}`, { details: { xapi: [e.code, ...e.params] }, ...(hint ? { hint } : {}) });
}

/** A failure below HTTP; `accepted`: the operation was under way (a task followed, a download), so any loss is ENDPOINT_LOST. */
export function transportError(endpoint: string, origin: string, err: unknown, accepted: boolean): PolyvisorError {
  const e = err as NodeJS.ErrnoException;
  const kind = transportFailure(err, accepted);
  if (kind === 'tls') return new PolyvisorError('ENDPOINT_TLS_UNTRUSTED', `the certificate of XCP-ng endpoint ${endpoint} (${origin}) is not trusted: ${e.message}`, { cause: err });
  if (kind === 'unreachable') return new PolyvisorError('ENDPOINT_UNREACHABLE', `XCP-ng endpoint ${endpoint} (${origin}) cannot be reached: ${e.code}`, { cause: err });
  return new PolyvisorError('ENDPOINT_LOST', `XCP-ng endpoint ${endpoint} (${origin}) went away during the call: ${e?.code || e?.message || String(err)}`, { cause: err });
}
