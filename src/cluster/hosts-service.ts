/**
 * What the API asks of the hosts: the list (`polyvisor host list`) and
 * cordons. A cluster host answers from the cluster store (HostDirectory); a
 * single-host daemon answers with itself and refuses cordons (NOT_A_CLUSTER).
 */
import os from 'node:os';
import { fail } from '../shared/index.js';
import type { DrainView, HostPlacementFacts, HostView, ScheduleExplainView, VmSpec } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import type { HostDirectory } from './host-directory.js';
import { CLAIMING_STATES, sumClaims } from './vm-claims.js';
import { explainTarget, type ExplainTarget } from './schedule-explain.js';
import { placeNewVm, type CreatePlacement, type HostChoice } from './create-placement.js';
import { DEFAULT_POLICY } from './scheduler/index.js';

export interface HostsService {
  list(): Promise<HostView[]>;
  setCordoned(name: string, cordoned: boolean): Promise<void>;
  /** Asks the host to drain itself (cluster/drain.ts); answers the drain's record. */
  drain(name: string): Promise<DrainView>;
  drainStatus(name: string): Promise<DrainView>;
  /** Where the scheduler would place a VM (existing, or a spec) and why, host by host (`polyvisor schedule explain`). */
  explain(target: ExplainTarget): Promise<ScheduleExplainView>;
  /** The host a new VM goes to (`vm create --host auto|NAME`): the scheduler's choice, or the named host if it fits. */
  place(spec: VmSpec, want: HostChoice): Promise<CreatePlacement>;
}

type ListVms = () => Promise<VmRecord[]>;

export class ClusterHosts implements HostsService {
  constructor(private readonly directory: HostDirectory, private readonly vms: ListVms) {}

  async list(): Promise<HostView[]> {
    return this.directory.list(await this.vms());
  }

  async setCordoned(name: string, cordoned: boolean): Promise<void> {
    await this.directory.setCordoned(name, cordoned);
  }

  drain(name: string): Promise<DrainView> {
    return this.directory.requestDrain(name);
  }

  drainStatus(name: string): Promise<DrainView> {
    return this.directory.drainStatus(name);
  }

  async explain(target: ExplainTarget): Promise<ScheduleExplainView> {
    const vms = await this.vms();
    return explainTarget(target, await this.directory.list(vms), vms, DEFAULT_POLICY);
  }

  async place(spec: VmSpec, want: HostChoice): Promise<CreatePlacement> {
    const vms = await this.vms();
    return placeNewVm({ spec, want, hosts: await this.directory.list(vms), vms, policy: DEFAULT_POLICY });
  }
}

export class SingleHost implements HostsService {
  private readonly since = new Date().toISOString();

  constructor(private readonly o: { name: string; version: string; diskBytes: number; vms: ListVms; topology?: () => Promise<HostPlacementFacts> }) {}

  async list(): Promise<HostView[]> {
    const [vms, topology] = await Promise.all([this.o.vms(), this.o.topology?.().catch(() => undefined)]);
    return [{
      name: this.o.name, state: 'ready',
      capacity: { cpus: os.cpus().length, memoryBytes: os.totalmem(), diskBytes: this.o.diskBytes },
      allocated: sumClaims(vms.filter((v) => CLAIMING_STATES.has(v.state))),
      vms: vms.length, pool: '', version: this.o.version, since: this.since, leaseAgeSeconds: null, self: true,
      ...(topology ? { topology } : {}),
    }];
  }

  setCordoned(name: string): Promise<void> {
    fail('NOT_A_CLUSTER', `${name}: this daemon runs on one host; cordon, uncordon and drain need a cluster store (etcd)`);
  }

  drain(name: string): Promise<DrainView> {
    return this.setCordoned(name) as never;
  }

  drainStatus(name: string): Promise<DrainView> {
    return this.setCordoned(name) as never;
  }

  async explain(target: ExplainTarget): Promise<ScheduleExplainView> {
    return explainTarget(target, await this.list(), await this.o.vms(), DEFAULT_POLICY);
  }

  /** On one host `auto` is this host, whatever it holds (the daemon's own checks at start still apply). */
  async place(spec: VmSpec, want: HostChoice): Promise<CreatePlacement> {
    if (want !== 'auto' && want !== this.o.name) fail('HOST_NOT_FOUND', `this daemon runs on one host, ${this.o.name}; there is no host ${want} to create VM ${spec.name} on (use --host auto or --host ${this.o.name}, or join a cluster)`);
    return { host: this.o.name, explain: explainTarget({ spec }, await this.list(), await this.o.vms(), DEFAULT_POLICY) };
  }
}
