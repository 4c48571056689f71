/**
 * A daemon on the cluster store (etcd) is a cluster host: it joins with a
 * lease and publishes its capacity (cluster/membership.ts), starts its
 * fencing watchdog and keeps it told of each renewal, lists its running HA
 * VMs as fence targets, and runs the HA executor (restarts decided for it)
 * and a candidate HA manager (one leads, by etcd's election). docs/ha.md.
 */
import { mkdir, readFile, statfs, writeFile } from 'node:fs/promises';
import path from 'node:path';
import os from 'node:os';
import {
  ClusterHosts, Election, HaExecutor, HaManager, HA_RESTART_STATES, HostAgent, HostDirectory, SingleHost, DEFAULT_HOST_TTL_SECONDS,
  processRuns, rejoinAfterLoss, type HostsService,
} from '../cluster/index.js';
import type { VmService } from '../lifecycle/index.js';
import { isPolyvisorError, newUuid, PolyvisorError, VERSION, type Logger } from '../shared/index.js';
import type { ClusterKv } from '../store/index.js';
import type { DaemonConfig } from './config.js';
import { startWatchdog, type RunningWatchdog } from './watchdog-wiring.js';
import { hostPlacementFacts, TOPOLOGY_PUBLISH_EVERY_MS } from './host-inventory-wiring.js';

export interface ClusterHost {
  agent: HostAgent;
  directory: HostDirectory;
  /** Publishes facts found after joining (the API URL once the daemon listens). */
  publish(facts: Record<string, string>): Promise<void>;
  /** Leaves on purpose (`cluster leave`): HA stops here, the watchdog disarms, the lease is revoked. */
  leave(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The identity of the storage VM directories live on: a random id kept in
 * `vmsDir/.polyvisor-storage-id`. Hosts that publish the same id share their
 * vmsDir (a drain then re-homes stopped VMs by ownership alone).
 */
async function storageId(vmsDir: string): Promise<string> {
  const file = path.join(vmsDir, '.polyvisor-storage-id');
  const have = await readFile(file, 'utf8').catch(() => '');
  if (/^[0-9a-f-]{36}$/.test(have.trim())) return have.trim();
  await mkdir(vmsDir, { recursive: true, mode: 0o750 });
  const id = newUuid();
  await writeFile(file, `${id}\n`, { flag: 'wx', mode: 0o644 }).catch(() => undefined); // another host may have won the race
  return (await readFile(file, 'utf8')).trim();
}

/** The size of the file system VM directories live on (0 if it cannot be read). */
async function vmsDirBytes(config: Pick<DaemonConfig, 'vmsDir'>): Promise<number> {
  const fs = await statfs(config.vmsDir).catch(() => undefined);
  return fs ? fs.blocks * fs.bsize : 0;
}

export async function wireCluster(o: { config: DaemonConfig; kv: ClusterKv; service: VmService; logger: Logger }): Promise<ClusterHost | undefined> {
  const cfg = o.config.store;
  if (cfg.kind !== 'etcd') return undefined;
  const log = o.logger.child({ component: 'cluster' });
  const host = o.config.hostName;
  const prefix = cfg.prefix;
  let watchdog = startWatchdog(o.config.stateDir, log);
  /**
   * A watchdog that exits while this host still holds its lease has fenced (a renewal came back only after the TTL
   * it was told had run out, e.g. while etcd elected a leader): the host is unguarded and its HA VMs were killed. The
   * lease is given up, so the rejoin starts a new watchdog, takes a new lease and restarts what was fenced. (Seen in
   * CI: the host kept its lease with no watchdog, and a later quorum loss fenced nothing.)
   */
  const guardLease = (w: RunningWatchdog): void => void w.exited.then(() => {
    if (ctl.signal.aborted || w !== watchdog || agent.lease.lost !== undefined) return;
    log.error({ pid: w.pid }, 'the fencing watchdog fenced and exited before this host saw its lease lost: the lease is given up and the host rejoins');
    agent.lease.abandon('the fencing watchdog fenced (no renewal within the TTL it was told)');
  });
  const directory = new HostDirectory(o.kv, host, prefix);
  const ctl = new AbortController();
  let rejoining: Promise<unknown> = Promise.resolve();
  /** The HA VMs the watchdog guards (kept with its target files): what it fences when the lease is lost. */
  const guarding = new Set<string>();
  const agent = new HostAgent({
    kv: o.kv,
    host: {
      name: host, state: 'ready',
      capacity: { cpus: os.cpus().length, memoryBytes: os.totalmem(), diskBytes: await vmsDirBytes(o.config) },
      facts: { version: VERSION, storage: await storageId(o.config.vmsDir), ...(cfg.pool ? { pool: cfg.pool } : {}), ...(await topologyFact(log)) },
    },
    ttlSeconds: cfg.leaseTtlSeconds ?? DEFAULT_HOST_TTL_SECONDS,
    ...(prefix ? { prefix } : {}),
    onRenewed: (until) => watchdog.alive(until),
    onLost: (why) => {
      log.error({ why }, 'this host lost its cluster lease: its watchdog fences its HA VMs; the host rejoins when the store answers');
      if (ctl.signal.aborted || why === 'revoked') return;
      // What the watchdog guards now is what it fences (it removes its target files once it has killed them, often
      // before this runs): remembered here, as their exits may be recorded as plain "QEMU exited" stops once the store
      // answers again, before this host has rejoined.
      const guarded = new Set(guarding);
      // And what the watchdog noted it killed (read once it has exited): a watchdog that fenced while the lease
      // still lived (guardLease above) killed VMs whose exits were recorded at once, before this ran.
      let noted: Promise<string[]> | undefined;
      const fenced = async (): Promise<Set<string>> => new Set([...guarded, ...(await (noted ??= watchdog.targets.takeFenced()))]);
      rejoining = rejoinAfterLoss({
        watchdogExited: watchdog.exited,
        restartWatchdog: () => {
          watchdog = startWatchdog(o.config.stateDir, log);
          guardLease(watchdog);
        },
        rejoin: async (signal) => {
          await agent.rejoin(signal);
          await directory.remember(agent.published);
        },
        recoverFenced: async () => recoverFenced(o.service, host, log, await fenced()),
        log, signal: ctl.signal,
      }).catch((err: unknown) => log.error({ err }, 'rejoin failed'));
    },
  });

  // The watchdog's list: this host's HA VMs with a process. Updated on every state change, before anything else hears of it.
  const syncTarget = async (name: string) => {
    const rec = await o.service.find(name).catch(() => undefined);
    if (rec && rec.host === host && rec.spec.ha && rec.runtime && HA_RESTART_STATES.has(rec.state)) {
      if (await watchdog.targets.add(name, rec.runtime.pid)) guarding.add(name);
      else guarding.delete(name);
    } else {
      guarding.delete(name);
      await watchdog.targets.remove(name);
    }
  };
  o.service.states.on('state', (c) => void syncTarget(c.vm).catch((err: unknown) => log.error({ err, vm: c.vm }, 'fence target update failed')));
  o.service.states.on('removed', (r) => {
    guarding.delete(r.vm);
    void watchdog.targets.remove(r.vm);
  });
  for (const t of await watchdog.targets.list()) await syncTarget(t.vm);
  for (const rec of await o.service.list()) await syncTarget(rec.name);

  guardLease(watchdog);
  await agent.join();
  await directory.remember(agent.published);
  log.info({ host, ttlSeconds: agent.lease.ttlSeconds, watchdog: watchdog.pid }, 'joined the cluster');
  const runs: Promise<void>[] = [];
  // Free hugepages and GPUs change as VMs start and stop: republish them when they do (the scheduler's topology filters read them).
  let lastTopology = agent.published.facts['topology'];
  const republish = setInterval(() => void topologyFact(log).then(async (f) => {
    if (f.topology === undefined || f.topology === lastTopology || ctl.signal.aborted) return;
    await agent.addFacts(f);
    lastTopology = f.topology;
  }).catch((err: unknown) => log.warn({ err }, 'republishing host topology failed')), TOPOLOGY_PUBLISH_EVERY_MS);
  republish.unref();
  ctl.signal.addEventListener('abort', () => clearInterval(republish), { once: true });
  if (cfg.ha !== false) {
    const election = new Election({ kv: o.kv, name: 'ha', candidate: host, lease: agent.lease, ...(prefix ? { prefix } : {}) });
    const manager = new HaManager({ kv: o.kv, directory, election, log, ...(prefix ? { prefix } : {}) });
    const executor = new HaExecutor({ kv: o.kv, host, log, ...(prefix ? { prefix } : {}), takeOverAndStart: (n, from, g) => o.service.takeOverAndStart(n, from, g) });
    runs.push(manager.run(ctl.signal), executor.run(ctl.signal));
  }
  let left = false;
  return {
    agent,
    directory,
    publish: (facts) => agent.addFacts(facts),
    leave: async () => {
      ctl.abort();
      await Promise.all([...runs, rejoining]);
      watchdog.leave();
      await agent.leave();
      left = true;
      log.info({ host }, 'left the cluster: watchdog disarmed, lease revoked');
    },
    close: async () => {
      ctl.abort();
      await Promise.all([...runs, rejoining]);
      if (left) return;
      // Not a leave: the VMs keep running after the daemon stops, so the lease must run out and the watchdog fence the HA
      // ones before they may restart elsewhere. `polyvisor cluster leave` (after a drain) is the clean way out.
      await agent.lease.stop();
    },
  };
}

const FENCED_REASON = 'HA: fenced while this host had lost its cluster lease';

/**
 * After a rejoin (cluster/rejoin.ts): this host's HA VMs whose record says they run while their QEMU is gone — the
 * watchdog fenced them while the store was out of reach, so their exit could not be recorded — are marked stopped by a
 * compare-and-set on the record's generation (if the HA manager gave one to another host meanwhile, that host has it),
 * then started here. So is one the watchdog guarded (`fenced`) whose exit was recorded as a plain "QEMU exited" stop:
 * the exit is written once the store answers again, which may be before this host has rejoined (seen in
 * test/ha-cluster: the fenced VM then stayed stopped). A VM this pass (or an earlier one) took over but could not
 * start yet is started too. One VM's
 * failure is logged and the others go on; if the store failed under any of them (it may still be settling after its
 * quorum came back) or its record changed under the compare-and-set, the pass throws at the end so the rejoin runs
 * it again on fresh records.
 */
async function recoverFenced(service: VmService, host: string, log: Logger, fenced: ReadonlySet<string>): Promise<string[]> {
  const restarted: string[] = [];
  const again: Array<{ vm: string; code: 'STORE_UNAVAILABLE' | 'VM_BUSY' }> = [];
  for (const rec of await service.list()) {
    if (rec.host !== host || !rec.spec.ha) continue;
    const takenOver = rec.state === 'stopped' && rec.stateReason === FENCED_REASON;
    const exitRecorded = fenced.has(rec.name) && rec.state === 'stopped' && rec.stateReason.startsWith('QEMU exited');
    if (!takenOver && !exitRecorded && !HA_RESTART_STATES.has(rec.state)) continue;
    if (!takenOver && !exitRecorded && rec.runtime && await processRuns(rec.runtime.pid)) continue;
    try {
      const stopped = takenOver ? rec : await service.states.takeOver(rec, host, FENCED_REASON, rec.generation);
      await service.takeOverAndStart(rec.name, host, stopped.generation);
      restarted.push(rec.name);
    } catch (err) {
      // The store failed, or the record changed under the compare-and-set — e.g. the VM's exit, written once quorum
      // came back, landed first: the next pass reads it again (stopped by its exit, it is restarted then).
      if (isPolyvisorError(err, 'STORE_UNAVAILABLE')) again.push({ vm: rec.name, code: 'STORE_UNAVAILABLE' });
      else if (isPolyvisorError(err, 'VM_BUSY')) again.push({ vm: rec.name, code: 'VM_BUSY' });
      log.error({ err, vm: rec.name }, 'rejoin: a fenced HA VM could not be restarted here');
    }
  }
  if (again.length > 0) {
    throw new PolyvisorError(again[0]!.code, `restarting the fenced HA VMs ${again.map((a) => a.vm).join(', ')} is tried again (restarted: ${restarted.join(', ') || 'none'})`);
  }
  return restarted;
}

/** What /v1/hosts answers from: the cluster's hosts, or this one host. */
export async function hostsService(o: { config: DaemonConfig; cluster: ClusterHost | undefined; service: VmService }): Promise<HostsService> {
  if (o.cluster) return new ClusterHosts(o.cluster.directory, () => o.service.listAll());
  return new SingleHost({ name: o.config.hostName, version: VERSION, diskBytes: await vmsDirBytes(o.config), vms: () => o.service.list(), topology: recent(() => hostPlacementFacts(), 5_000) });
}

/** facts.topology: the host's placement facts as JSON, or nothing when sysfs cannot be read. */
async function topologyFact(log: Logger): Promise<{ topology?: string }> {
  try {
    return { topology: JSON.stringify(await hostPlacementFacts()) };
  } catch (err) {
    log.warn({ err }, 'reading the host topology failed: not published (topology filters refuse VMs that need it here)');
    return {};
  }
}

/** The last answer of `read` while it is younger than `ms` (the one host's topology is read on /v1/hosts and explain). */
function recent<T>(read: () => Promise<T>, ms: number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | undefined;
  return () => {
    if (!last || Date.now() - last.at > ms) last = { at: Date.now(), value: read() };
    return last.value;
  };
}
