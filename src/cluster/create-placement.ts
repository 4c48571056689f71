/**
 * Where `polyvisor vm create … --host auto|NAME` puts a new VM (issue 19,
 * docs/scheduler.md "Placing a new VM"). `auto` asks the scheduler — the same
 * request, candidates, filters and weighers as `schedule explain`, drains and
 * HA restarts — and refuses with NO_HOST_FITS naming every host and why it
 * refused (explain's words). A named host must be known and pass every filter
 * but the tier one (naming a host overrides the VM's pool preference, not its
 * restrictions, capacity or cordons). Pure.
 */
import { fail, PolyvisorError } from '../shared/index.js';
import type { HostView, ScheduleExplainView, VmSpec } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import { explainPlacement } from './schedule-explain.js';
import type { Policy } from './scheduler/index.js';

/** `auto`: the scheduler picks; otherwise the host's name. */
export type HostChoice = 'auto' | (string & {});

export interface CreatePlacement {
  host: string;
  explain: ScheduleExplainView;
}

/** One line per refused host, as `schedule explain` prints its FILTERS column. */
export function refusalLines(x: ScheduleExplainView): string[] {
  return x.hosts.filter((h) => h.refusedBy).map((h) => `${h.host} refused by ${h.refusedBy!.filter}: ${h.refusedBy!.reason}`);
}

export function placeNewVm(i: { spec: VmSpec; want: HostChoice; hosts: readonly HostView[]; vms: readonly VmRecord[]; policy: Policy }): CreatePlacement {
  const same = i.vms.find((v) => v.name === i.spec.name);
  if (same) fail('VM_EXISTS', `a VM named ${i.spec.name} already exists (on host ${same.host})`);
  const x = explainPlacement({ name: i.spec.name, spec: i.spec, hosts: i.hosts, vms: i.vms, policy: i.policy });
  const details = { vm: x.vm, hosts: x.hosts.map((h) => ({ host: h.host, state: h.state, filter: h.refusedBy?.filter ?? null, reason: h.refusedBy?.reason ?? null })) };
  if (i.want === 'auto') {
    if (x.chosen) return { host: x.chosen, explain: x };
    const lines = refusalLines(x);
    throw new PolyvisorError('NO_HOST_FITS', x.hosts.length === 0 ? `no host fits VM ${x.vm}: the cluster has no hosts` : `no host fits VM ${x.vm}: ${lines.join('; ')}`, { details });
  }
  return { host: checkNamedHost(x, i.want, 'use --host auto to let the scheduler choose'), explain: x };
}

/**
 * A host named for a VM (create --host NAME, migrate --host NAME): it must be
 * in the explanation and pass every filter but the tier one. Returns its
 * name; HOST_NOT_FOUND or NO_HOST_FITS with the refusing filter otherwise.
 */
export function checkNamedHost(x: ScheduleExplainView, host: string, orElse: string): string {
  const row = x.hosts.find((h) => h.host === host);
  if (!row) fail('HOST_NOT_FOUND', `no host named ${host} in this cluster (hosts: ${x.hosts.map((h) => h.host).join(', ') || 'none'}); ${orElse}`);
  const refused = row.verdicts.find((v) => !v.pass && v.filter !== 'tier');
  if (refused && !refused.pass) {
    throw new PolyvisorError('NO_HOST_FITS', `host ${row.host} cannot take VM ${x.vm}: refused by ${refused.filter}: ${refused.reason}${x.chosen ? ` (the scheduler would choose ${x.chosen})` : ''}`, {
      details: { vm: x.vm, hosts: x.hosts.map((h) => ({ host: h.host, state: h.state, filter: h.refusedBy?.filter ?? null, reason: h.refusedBy?.reason ?? null })) },
    });
  }
  return row.host;
}
