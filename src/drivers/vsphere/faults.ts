/**
 * vim25 faults → the error catalogue. The fault's own text stays in the
 * message (it is vSphere's explanation); credentials never appear in it.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { SoapFault } from './soap-envelope.js';

/** A fault answered to a call (or carried by a failed task's TaskInfo.error). */
export function faultError(f: SoapFault, what: string, vm?: string): PolyvisorError {
  const said = f.faultstring ? `: ${f.faultstring}` : '';
  const type = f.type ?? 'fault';
  switch (f.type) {
    case 'InvalidLogin':
    case 'NotAuthenticated':
      return new PolyvisorError('ENDPOINT_AUTH_FAILED', `vSphere refused the login for ${what} (${type})`, { details: { fault: type } });
    case 'ManagedObjectNotFound':
      return new PolyvisorError('FOREIGN_VM_NOT_FOUND', `${vm ? `VM ${vm}` : 'the object'} no longer exists on the endpoint (${what}${said})`, { details: { fault: type } });
    case 'InvalidPowerState':
    case 'InvalidState':
      return new PolyvisorError('INVALID_TRANSITION', `vSphere refused ${what}${vm ? ` of ${vm}` : ''} in its current power state (${type}${said})`, { details: { fault: type } });
    default:
      return new PolyvisorError('ENDPOINT_TASK_FAILED', `vSphere refused ${what}${vm ? ` of ${vm}` : ''}: ${type}${said}`, { details: { fault: type } });
  }
}
