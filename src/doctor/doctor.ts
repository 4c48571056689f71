/** Runs every check with a deadline each; a check that throws becomes a finding, never a failed report. */
import { timeoutSignal } from '../shared/index.js';
import { confinementChecks } from './confinement-checks.js';
import { hostChecks } from './host-checks.js';
import { listenerChecks } from './listener-checks.js';
import { networkChecks } from './network-checks.js';
import { poolChecks, storeChecks } from './storage-checks.js';
import { virtualNetworkChecks } from './virtual-network-checks.js';
import type { DoctorDeps, DoctorReport, Finding, Severity } from './types.js';
import { clockChecks, orphanDirs, orphanProcesses, vmChecks } from './vm-checks.js';

const ORDER: Severity[] = ['ok', 'info', 'warning', 'critical'];
const CHECK_TIMEOUT_MS = 20_000;

export async function runDoctor(d: DoctorDeps, parent?: AbortSignal): Promise<DoctorReport> {
  const recs = await d.vms.list();
  const checks: Array<[string, (s: AbortSignal) => Promise<Finding[]>]> = [
    ['host', (s) => hostChecks(d, s)],
    ['migration-buffers', () => networkChecks(d)],
    ['cgroups', () => confinementChecks(d)],
    ['api-listener', () => listenerChecks(d)],
    ['pool', () => poolChecks(d)],
    ['store', () => storeChecks(d)],
    ['vm', () => vmChecks(d, recs)],
    ['orphan-process', () => orphanProcesses(d, recs)],
    ['orphan-dir', () => orphanDirs(d, recs)],
    ['clock', (s) => clockChecks(d, recs, s)],
  ];
  const nets = d.networks?.bind(d);
  const vlan = d.networkVlanSupport?.bind(d);
  if (nets) checks.push(['networks', () => virtualNetworkChecks({ networks: nets, ...(vlan ? { vlanSupport: vlan } : {}), ...(d.procSysDir ? { procDir: d.procSysDir.replace(/\/sys$/, '') } : {}) })]);
  const results = await Promise.all(checks.map(async ([name, fn]) => {
    const signal = timeoutSignal(CHECK_TIMEOUT_MS, parent);
    try {
      return await Promise.race([fn(signal), new Promise<never>((_, rej) => signal.addEventListener('abort', () => rej(new Error('timed out')), { once: true }))]);
    } catch (err) {
      return [{ check: name, severity: 'warning', subject: null, message: `check ${name} failed: ${(err as Error).message}`, fix: null } satisfies Finding];
    }
  }));
  const findings = results.flat();
  const status = findings.reduce<Severity>((w, f) => (ORDER.indexOf(f.severity) > ORDER.indexOf(w) ? f.severity : w), 'ok');
  return { host: d.host, checkedAt: new Date().toISOString(), status, findings };
}
