/**
 * The target end of a host-to-host move (routes: api/routes/migration-incoming.ts).
 *
 * prepare: compatibility check → a store row for the VM (same id and name,
 *   state `migrating`) and a claim file `<vmDir>/migration-in.json` → empty
 *   images for the copied disks → live: an incoming QEMU (-S, so the guest
 *   cannot run here before the commit) listening on TCP on this host's
 *   migration address, with NBD exports of those images; offline: one
 *   qemu-nbd per file. Any failure removes all of it.
 * commit (the ownership switch): the row gets its final state and runtime,
 *   then the claim file is removed, then the guest is resumed. From the
 *   commit on, this host owns the VM; the source deletes its copy.
 * abort: kills what prepare started, deletes the row and the directory.
 *   Idempotent; for a migration it no longer knows it answers from the store.
 * Restart: a row in `migrating` with a claim file was never committed:
 *   discardUnfinishedIncoming() removes it before the lifecycle re-adopts VMs.
 */
import { mkdir, rm, truncate, unlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { canMigrateIn, type Driver, type IncomingMigration, type MigrationTlsFiles, type NbdMirror } from '../drivers/index.js';
import { encryptedDisks, type NetworkService, type VmService } from '../lifecycle/index.js';
import { fail, isLoopbackHost, plainAddress, PolyvisorError, timeoutSignal, validateName, writeFileAtomic, type Logger } from '../shared/index.js';
import { checkDiskSources, createEncryptedImage, createImage } from '../storage/index.js';
import type { Store, VmRecord } from '../store/index.js';
import { checkCompatibility, describeIncompatibilities } from './compat.js';
import { refuseMissingNetworks } from './network-nics.js';
import { closeExport, exportFile, freePort, killStaleExports, type FileExport } from './offline-nbd.js';
import { STATE_EXPORT, type AbortResult, type CommitResult, type IncomingReady, type IncomingRequest, type IncomingStatus } from './peer.js';

const CLAIM = 'migration-in.json';
const TLS_DIR = 'migration-tls';

export interface IncomingServiceOptions {
  vms: VmService;
  store: Store;
  driver: Driver;
  host: string;
  /** The address incoming streams and NBD exports listen on (the daemon's listen address). */
  address: string;
  /** RAM the host keeps for itself: a live move is refused if the VM would eat into it. */
  memoryReserveBytes: number;
  logger: Logger;
  /** Virtual networks here: the VM's NICs need a network of each name; live moves get their taps before QEMU starts. */
  networks?: Pick<NetworkService, 'available' | 'missingNetworks' | 'attachVm' | 'guestMtus' | 'detachVm' | 'forgetVm'>;
}

interface Entry {
  req: IncomingRequest;
  phase: IncomingStatus['phase'];
  dir: string;
  target?: IncomingMigration;
  exports: FileExport[];
  watchdog?: NodeJS.Timeout;
  /** Set once the incoming stream failed or the target QEMU died. */
  failed?: Error;
  /** The NICs' taps were attached here (removed again if the move does not commit). */
  nics?: boolean;
  /** The store row was made by this prepare (false on a cluster store, where the source's row is shared). */
  ownRow: boolean;
  /** Peer addresses that may connect to the stream and the exports (the source's; none: anyone holding the move's certificate). */
  allowFrom?: readonly string[];
  /** Encrypted disks: the passphrase names this prepare stored in this host's secrets store (removed unless the move commits). */
  keys: string[];
}

/**
 * Who may connect to a move's listeners: the address the source's request
 * came from; a loopback peer (two daemons on one host) may use either
 * loopback family, since its QEMU connects to this host's migration address.
 */
export function allowedPeers(remote: string | undefined): string[] | undefined {
  if (remote === undefined || remote === '') return undefined;
  const a = plainAddress(remote);
  return isLoopbackHost(a) ? [...new Set([a, '127.0.0.1', '::1'])] : [a];
}

/**
 * The target decides what is copied, not the request (audit defect 3): a disk
 * is copied exactly when the spec keeps it in the VM's own directory; a disk
 * given by path is shared storage that must already be here, and is never
 * created, emptied or exported writable. The request must list the spec's
 * disks, each once.
 */
function checkCopies(req: IncomingRequest): void {
  const names = req.vm.spec.disks.map((d) => d.name);
  const listed = req.disks.map((d) => d.name);
  if (listed.length !== names.length || !names.every((n) => listed.includes(n))) {
    fail('INVALID_BODY', `the move lists disks ${listed.join(', ') || 'none'} but the VM's spec has ${names.join(', ') || 'none'}`);
  }
  for (const d of req.disks) {
    const inVmDir = req.vm.spec.disks.find((x) => x.name === d.name)!.path === undefined;
    if (d.copy !== inVmDir) {
      fail('INVALID_BODY', inVmDir
        ? `disk ${d.name} lives in the VM's directory: it must be copied (copy: true)`
        : `disk ${d.name} is given by path (shared storage): the target never creates or overwrites it (copy must be false)`);
    }
  }
}

export class IncomingService {
  private readonly byId = new Map<string, Entry>();
  private readonly log: Logger;

  constructor(private readonly o: IncomingServiceOptions) {
    this.log = o.logger.child({ component: 'migration-in' });
  }

  /** `o.peer`: the address the request came from (undefined over the unix socket); the move's listeners accept only it. */
  async prepare(full: IncomingRequest, o: { peer?: string } = {}): Promise<IncomingReady> {
    // The passphrases of encrypted disks stay out of the entry (kept 10 minutes) and every log line: only the store gets them.
    const { diskKeys, ...req } = full;
    const name = req.vm.name;
    validateName(name, 'VM name');
    if (this.byId.has(req.migrationId)) fail('VM_BUSY', `migration ${req.migrationId} is already prepared here`);
    this.o.vms.checkMovedKeys(req.vm, diskKeys); // encrypted disks: their passphrases came with the request (docs/security.md "Encrypted disks")
    const driver = this.o.driver;
    if (!canMigrateIn(driver) || !driver.hostFacts) fail('MIGRATION_FAILED', `the ${driver.name} driver cannot receive migrations`);
    const facts = await driver.hostFacts(timeoutSignal(30_000));
    const problems = checkCompatibility({ spec: req.vm.spec, mode: req.mode, source: req.source, features: req.features, memoryReserveBytes: this.o.memoryReserveBytes }, facts);
    if (problems.length) {
      throw new PolyvisorError('MIGRATION_INCOMPATIBLE', `VM ${name} cannot move to ${this.o.host}: ${describeIncompatibilities(problems)}`, {
        details: problems, hint: problems.map((p) => p.fix).join('; '),
      });
    }
    checkCopies(req);
    const nets = this.o.networks;
    refuseMissingNetworks(name, req.vm.spec, this.o.host, nets ? await nets.missingNetworks(req.vm.spec) : [], nets?.available ?? false);
    const shared = req.vm.spec.disks.filter((d) => d.path !== undefined);
    if (shared.length) await checkDiskSources({ ...req.vm.spec, disks: shared });
    // No row yet, so no job queue to run on: the store's unique name settles a race between two prepares.
    {
      // On a cluster store (docs/cluster.md) the row is shared: a move between members keeps the source's row,
      // and the commit makes this host its owner. Anything else of that name is another VM.
      const existing = await this.o.store.getVm(name);
      const shared = existing !== undefined && existing.id === req.vm.id && existing.host === req.source.host && existing.host !== this.o.host;
      if (existing && !shared) fail('VM_EXISTS', `a VM named ${name} already exists on ${this.o.host}`);
      if (shared && existsSync(this.o.vms.plan(existing).dir)) {
        fail('MIGRATION_FAILED', `VM ${name}'s directory already exists on ${this.o.host}: the two hosts share vmsDir, and a move between them would overwrite the source's files`, {
          hint: 'moves between hosts that share vmsDir are not supported yet; stop the VM and let a drain re-home it, or give each host its own vmsDir',
        });
      }
      const rec = shared ? existing : await this.o.store.createVm({
        id: req.vm.id, name, spec: req.vm.spec, state: 'migrating', stateReason: `incoming ${req.mode} migration ${req.migrationId} from ${req.source.host}`,
        host: this.o.host, runtime: null,
      });
      const plan = this.o.vms.plan(rec);
      const allowFrom = allowedPeers(o.peer);
      const e: Entry = { req, phase: 'waiting', dir: plan.dir, exports: [], ownRow: !shared, keys: [], ...(allowFrom ? { allowFrom } : {}) };
      this.byId.set(req.migrationId, e);
      try {
        await mkdir(plan.dir, { recursive: true, mode: 0o750 });
        await writeFileAtomic(path.join(plan.dir, CLAIM), JSON.stringify({ migrationId: req.migrationId, from: req.source.host, at: new Date().toISOString() }));
        // Before any QEMU or image of the move: this host's secrets store gets the passphrases under the VM's own names.
        e.keys = await this.o.vms.storeMovedKeys({ id: rec.id, name, spec: req.vm.spec }, diskKeys);
        const ready = req.mode === 'live' ? await this.prepareLive(e, rec, diskKeys ?? {}) : await this.prepareOffline(e, rec);
        e.watchdog = setTimeout(() => void this.abortEntry(req.migrationId, 'not committed in time').catch(() => undefined), (req.timeoutSeconds + 120) * 1000);
        e.watchdog.unref();
        this.log.info({ vm: name, migrationId: req.migrationId, mode: req.mode, from: req.source.host, uri: ready.uri, tls: req.tls !== undefined }, 'incoming migration prepared');
        return ready;
      } catch (err) {
        await this.teardown(e, rec).catch((e2: unknown) => this.log.warn({ err: e2 }, 'cleaning up a failed incoming migration'));
        this.byId.delete(req.migrationId);
        throw err;
      }
    }
  }

  private async prepareLive(e: Entry, rec: VmRecord, diskKeys: Readonly<Record<string, string>>): Promise<IncomingReady> {
    const { req } = e;
    const driver = this.o.driver;
    if (!canMigrateIn(driver)) fail('MIGRATION_FAILED', `the ${driver.name} driver cannot receive migrations`);
    const plan = this.o.vms.plan(rec);
    const copied = req.disks.filter((d) => d.copy);
    await mkdir(path.join(plan.dir, 'disks'), { recursive: true, mode: 0o750 });
    // An encrypted disk's image is LUKS here too, under the same passphrase: the mirror writes through QEMU's LUKS layer, so no byte of it lands in clear.
    const encrypted = new Set(encryptedDisks(req.vm.spec).map((d) => d.name));
    for (const d of copied) {
      const file = plan.diskPaths[d.name]!;
      if (encrypted.has(d.name)) await createEncryptedImage(file, d.virtualSize, diskKeys[d.name]!, { signal: timeoutSignal(120_000) });
      else await createImage(file, d.format, d.virtualSize, { signal: timeoutSignal(60_000) });
    }
    let tls: MigrationTlsFiles | undefined;
    if (req.tls) tls = await this.writeTls(plan.dir, req.tls);
    const addr = this.o.address;
    const [port, nbdPort] = [await freePort(addr), await freePort(addr)];
    // The NICs' taps on this host's networks (same MAC, the address the source pinned), before QEMU opens them.
    const taps = this.o.networks ? await this.o.networks.attachVm(rec) : {};
    e.nics = true;
    const nicMtu = (await this.o.networks?.guestMtus(rec.spec)) ?? {}; // the source's QEMU got the same host_mtu from the same records
    // Encrypted disks: QEMU reads their passphrases from secret files as it starts; they go right after.
    const dropSecretFiles = await this.o.vms.writeSecretFiles(rec);
    try {
      e.target = await driver.prepareIncoming({ ...plan, taps, nicMtu, ...(req.hotplugged ? { hotplugged: req.hotplugged } : {}) }, {
        tuning: req.tuning!, accel: req.source.accel, listen: { host: addr, port }, paused: true, ...(e.allowFrom ? { allowFrom: e.allowFrom } : {}),
        ...(copied.length ? { nbd: { host: addr, port: nbdPort, disks: copied.map((d) => d.name) } } : {}), ...(tls ? { tls } : {}),
      }, timeoutSignal(60_000));
    } finally {
      await dropSecretFiles();
    }
    // The stream breaking (source cancelled, died, or link lost) ends the target QEMU: tear down at once.
    e.target.waitLoaded(timeoutSignal((req.timeoutSeconds + 60) * 1000)).catch((err: Error) => {
      e.failed = err;
      if (e.phase === 'waiting') void this.abortEntry(req.migrationId, `the incoming stream failed: ${err.message}`).catch(() => undefined);
    });
    return { migrationId: req.migrationId, host: this.o.host, uri: e.target.uri, pid: e.target.pid, nbd: [...(e.target.nbd ?? [])] };
  }

  private async prepareOffline(e: Entry, rec: VmRecord): Promise<IncomingReady> {
    const { req } = e;
    const plan = this.o.vms.plan(rec);
    const files: Array<[string, string, number]> = req.disks.filter((d) => d.copy).map((d) => [d.name, plan.diskPaths[d.name]!, d.fileBytes]);
    if (req.saveFileBytes !== undefined) files.push([STATE_EXPORT, this.o.vms.files(rec).saveFile, req.saveFileBytes]);
    await mkdir(path.join(plan.dir, 'disks'), { recursive: true, mode: 0o750 });
    const tls = req.tls ? await this.writeTls(plan.dir, req.tls) : undefined;
    const nbd: NbdMirror[] = [];
    for (const [name, file, bytes] of files) {
      await writeFile(file, '', { mode: 0o640 });
      await truncate(file, bytes);
      const x = await exportFile(plan.dir, name, file, this.o.address, timeoutSignal(30_000), tls, e.allowFrom ? { allow: e.allowFrom, logger: this.log } : undefined);
      e.exports.push(x);
      nbd.push({ disk: name, host: x.host, port: x.port, exportName: name });
    }
    return { migrationId: req.migrationId, host: this.o.host, nbd };
  }

  private async writeTls(dir: string, t: NonNullable<IncomingRequest['tls']>): Promise<MigrationTlsFiles> {
    const tdir = path.join(dir, TLS_DIR);
    await mkdir(tdir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(tdir, 'ca-cert.pem'), t.caCert, { mode: 0o644 });
    await writeFile(path.join(tdir, 'server-cert.pem'), t.serverCert, { mode: 0o644 });
    await writeFile(path.join(tdir, 'server-key.pem'), t.serverKey, { mode: 0o600 });
    return { dir: tdir, hostname: t.hostname };
  }

  status(migrationId: string): IncomingStatus {
    const e = this.byId.get(migrationId);
    if (!e) fail('MIGRATION_NOT_RUNNING', `no incoming migration ${migrationId} on ${this.o.host}`);
    if (e.failed) fail('MIGRATION_FAILED', `incoming migration ${migrationId} failed on ${this.o.host}: ${e.failed.message}`);
    return { migrationId, vm: e.req.vm.name, mode: e.req.mode, phase: e.phase };
  }

  /** The ownership switch: this host owns the VM once this returns. */
  async commit(migrationId: string): Promise<CommitResult> {
    const e = this.byId.get(migrationId);
    if (!e || e.phase !== 'waiting') fail('MIGRATION_NOT_RUNNING', `no incoming migration ${migrationId} waiting for its commit on ${this.o.host}`);
    const t0 = Date.now();
    const name = e.req.vm.name;
    return this.o.vms.exclusive(name, async (rec) => {
      if (e.phase !== 'waiting') fail('MIGRATION_NOT_RUNNING', `incoming migration ${migrationId} is ${e.phase}`);
      if (e.failed) fail('MIGRATION_FAILED', `incoming migration ${migrationId} failed: ${e.failed.message}`);
      let pid: number | null = null;
      let next: VmRecord;
      const steps: Record<string, number> = {};
      const step = (k: string, since: number): number => ((steps[k] = Date.now() - since), Date.now());
      if (e.target) {
        let t = Date.now();
        await e.target.waitLoaded(timeoutSignal(60_000));
        t = step('loadedMs', t);
        const inst = await e.target.commit(timeoutSignal(30_000));
        t = step('filesMs', t);
        pid = inst.info.pid;
        this.o.vms.replaceInstance(name, inst);
        const to = e.req.vm.state === 'paused' ? 'paused' : 'running';
        next = await this.o.vms.states.set(rec, to, `live-migrated from ${e.req.source.host}`, { runtime: inst.info, host: this.o.host });
        e.phase = 'committed';
        t = step('storeMs', t);
        // The row says this host owns the VM: the guest may run. The claim goes right after (a restart in
        // between keeps the VM, since only a row still `migrating` with a claim is discarded).
        if (to === 'running') await inst.resume(timeoutSignal(10_000));
        t = step('resumeMs', t);
        await this.dropClaim(e);
        step('claimMs', t);
      } else {
        for (const x of e.exports) await closeExport(x);
        // A shared (cluster) row keeps its state — created, stopped or suspended — and only changes owner.
        const to = !e.ownRow ? rec.state : e.req.vm.state === 'suspended' ? 'suspended' : 'stopped';
        next = await this.o.vms.states.set(rec, to, `moved offline from ${e.req.source.host}`, { host: this.o.host });
        e.phase = 'committed';
        await this.dropClaim(e);
      }
      clearTimeout(e.watchdog);
      this.forgetLater(migrationId);
      this.log.info({ vm: name, migrationId, pid, handoverMs: Date.now() - t0, ...steps }, 'incoming migration committed: this host owns the VM');
      return { migrationId, vm: name, state: next.state, pid, handoverMs: Date.now() - t0 };
    });
  }

  /** Rolls back a migration that was not committed; says so if it was. */
  async abort(migrationId: string, vm: { name: string; id: string }): Promise<AbortResult> {
    validateName(vm.name, 'VM name');
    const e = this.byId.get(migrationId);
    if (e) {
      if (e.phase === 'committed') return { migrationId, outcome: 'committed' };
      await this.abortEntry(migrationId, 'aborted by the source');
      return { migrationId, outcome: 'aborted' };
    }
    // Not (or no longer) known here, e.g. after a restart: the store tells.
    const rec = await this.o.store.getVm(vm.name);
    const committed = rec !== undefined && rec.id === vm.id && rec.host === this.o.host && rec.state !== 'migrating';
    return { migrationId, outcome: committed ? 'committed' : 'aborted' };
  }

  private async abortEntry(migrationId: string, why: string): Promise<void> {
    const e = this.byId.get(migrationId);
    if (!e || e.phase !== 'waiting') return;
    await this.o.vms.exclusive(e.req.vm.name, async (rec) => {
      if (e.phase !== 'waiting') return;
      e.phase = 'aborted';
      clearTimeout(e.watchdog);
      await this.teardown(e, rec);
      this.forgetLater(migrationId);
      this.log.warn({ vm: e.req.vm.name, migrationId, why }, 'incoming migration rolled back: nothing of it is left here');
    });
  }

  /** Kills the target QEMU or the NBD servers, deletes the row and the VM directory. */
  private async teardown(e: Entry, rec: VmRecord): Promise<void> {
    e.phase = e.phase === 'committed' ? e.phase : 'aborted';
    await e.target?.abort();
    for (const x of e.exports) await closeExport(x);
    if (e.nics && rec.id === e.req.vm.id && this.o.networks) {
      await this.o.networks.detachVm(rec);
      await this.o.networks.forgetVm(rec.name).catch(() => undefined);
    }
    if (rec.id === e.req.vm.id && e.ownRow) await this.o.store.deleteVm(rec.name).catch(() => undefined);
    await rm(e.dir, { recursive: true, force: true });
    // After the images: nothing of the move's passphrases is left here.
    if (e.phase !== 'committed' && e.keys.length) {
      await this.o.vms.forgetDiskKeys(e.keys).catch((err: unknown) => this.log.warn({ vm: e.req.vm.name, err }, 'removing the passphrases of a rolled-back move'));
      e.keys = [];
    }
  }

  private async dropClaim(e: Entry): Promise<void> {
    await unlink(path.join(e.dir, CLAIM)).catch(() => undefined);
    await rm(path.join(e.dir, TLS_DIR), { recursive: true, force: true });
  }

  /** Keep the outcome a while so a source that lost the commit's answer can ask. */
  private forgetLater(migrationId: string): void {
    setTimeout(() => this.byId.delete(migrationId), 10 * 60_000).unref();
  }

  /** Daemon shutdown: roll back every migration that has not been committed. */
  async close(): Promise<void> {
    for (const [id, e] of this.byId) if (e.phase === 'waiting') await this.abortEntry(id, 'daemon shutting down').catch(() => undefined);
  }
}

/**
 * Before the lifecycle re-adopts VMs: a row in `migrating` whose directory
 * still holds the claim file was never committed (the daemon died before):
 * stop its incoming QEMU and NBD servers, delete the row and the directory.
 */
export async function discardUnfinishedIncoming(o: { vms: VmService; store: Store; driver: Driver; logger: Logger }): Promise<string[]> {
  const out: string[] = [];
  for (const rec of await o.vms.list()) {
    if (rec.state !== 'migrating') continue;
    const plan = o.vms.plan(rec);
    if (!existsSync(path.join(plan.dir, CLAIM))) continue;
    if (canMigrateIn(o.driver)) await o.driver.discardIncoming?.(plan.dir, rec.id);
    await killStaleExports(plan.dir);
    await o.store.deleteVm(rec.name);
    await rm(plan.dir, { recursive: true, force: true });
    await o.vms.forgetDiskKeys(o.vms.diskKeyNames(rec)); // a move stores them at prepare: none stays for a VM that never arrived
    o.logger.warn({ vm: rec.name, id: rec.id }, 'removed an incoming migration that was never committed (daemon restarted)');
    out.push(rec.name);
  }
  return out;
}
