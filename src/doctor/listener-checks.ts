/** The API's TCP listener (audit defect 6): plain HTTP beyond loopback is said out loud, and doctor keeps saying it. */
import { isLoopbackHost } from '../shared/index.js';
import type { DoctorDeps, Finding } from './types.js';

export function listenerChecks(d: DoctorDeps): Promise<Finding[]> {
  const l = d.apiListener;
  if (!l || l.listen === 'off') return Promise.resolve([]);
  const host = l.listen.slice(0, l.listen.lastIndexOf(':'));
  const beyond = !isLoopbackHost(host);
  if (beyond && !l.tls) {
    return Promise.resolve([{
      check: 'api-listener', severity: 'warning', subject: l.listen,
      message: `the API listens on ${l.listen} beyond loopback over plain HTTP (--insecure-http): tokens and migration keys cross the network in clear. Restart the daemon without --insecure-http (POLYVISOR_INSECURE_HTTP) to serve HTTPS with a generated certificate`,
      fix: null,
    }]);
  }
  const how = l.tls ? 'HTTPS' : 'plain HTTP on loopback only';
  return Promise.resolve([{ check: 'api-listener', severity: 'ok', subject: l.listen, message: `the API's TCP listener on ${l.listen} serves ${how}`, fix: null }]);
}
