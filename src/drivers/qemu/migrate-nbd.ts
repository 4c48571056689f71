/**
 * Storage migration for disks the target cannot see (NBD + blockdev-mirror,
 * the libvirt way):
 *
 * - target (incoming QEMU, -incoming defer): `nbd-server-start` on its
 *   address and one writable `block-export-add` per disk, on the format node
 *   of the empty image it was started with (QEMU activates the image for the
 *   export and defers the device's permissions to the end of the migration);
 * - source: `blockdev-add` an nbd client node per disk, `blockdev-mirror`
 *   sync=full onto it, wait until every job is ready (in sync, then mirroring
 *   each guest write), then migrate RAM with pause-before-switchover; in
 *   pre-switchover (vCPUs stopped, nothing writes any more) `block-job-cancel`
 *   each ready job, which leaves the copy complete without pivoting, and
 *   continue; the target stops its NBD server before it resumes the guest.
 */
import type { QmpClient } from '../../qmp/index.js';
import { abortError, PolyvisorError, sleep, timeoutSignal } from '../../shared/index.js';
import type { MigrationTlsFiles, MirrorProgress, NbdMirror } from '../migratable.js';
import { TLS_OBJECT_ID } from './migrate-tls.js';
import { diskNodes } from './names.js';

const jobId = (disk: string): string => `mig-${diskNodes(disk).format.slice('disk-'.length)}`;
const nbdNode = (disk: string): string => `nbd-${diskNodes(disk).format.slice('disk-'.length)}`;

/** Target: serve each disk's (empty) image writable over NBD. */
export async function startNbdExports(
  qmp: QmpClient, listen: { host: string; port: number }, disks: readonly string[], tls: boolean, signal: AbortSignal,
): Promise<NbdMirror[]> {
  await qmp.execute('nbd-server-start', {
    addr: { type: 'inet', data: { host: listen.host, port: String(listen.port) } }, ...(tls ? { 'tls-creds': TLS_OBJECT_ID } : {}),
  }, { signal });
  const out: NbdMirror[] = [];
  for (const disk of disks) {
    await qmp.execute('block-export-add', { type: 'nbd', id: jobId(disk), 'node-name': diskNodes(disk).format, writable: true, name: disk }, { signal });
    out.push({ disk, host: listen.host, port: listen.port, exportName: disk });
  }
  return out;
}

/** Target: remove the exports and stop the server (before the guest resumes: the devices then take their write permission). */
export async function stopNbdExports(qmp: QmpClient, disks: readonly string[], signal: AbortSignal): Promise<void> {
  for (const disk of disks) await qmp.execute('block-export-del', { id: jobId(disk) }, { signal }).catch(() => undefined);
  await qmp.execute('nbd-server-stop', undefined, { signal }).catch(() => undefined);
}

interface BlockJob { device: string; len: number; offset: number; ready: boolean; status: string }

/** Source: one nbd client node and one mirror job per disk. */
export async function startMirrors(qmp: QmpClient, mirrors: readonly NbdMirror[], tls: MigrationTlsFiles | undefined, signal: AbortSignal): Promise<void> {
  for (const m of mirrors) {
    await qmp.execute('blockdev-add', {
      driver: 'nbd', 'node-name': nbdNode(m.disk), server: { type: 'inet', host: m.host, port: String(m.port) }, export: m.exportName,
      ...(tls ? { 'tls-creds': TLS_OBJECT_ID, 'tls-hostname': tls.hostname } : {}),
    }, { signal });
    await qmp.execute('blockdev-mirror', {
      'job-id': jobId(m.disk), device: diskNodes(m.disk).format, target: nbdNode(m.disk), sync: 'full', 'auto-dismiss': true,
    }, { signal });
  }
}

async function jobs(qmp: QmpClient, mirrors: readonly NbdMirror[], signal: AbortSignal): Promise<BlockJob[]> {
  const ids = new Set(mirrors.map((m) => jobId(m.disk)));
  return (await qmp.execute<BlockJob[]>('query-block-jobs', undefined, { signal })).filter((j) => ids.has(j.device));
}

/** Source: waits until every mirror is in sync; a job that disappears before that has failed. */
export async function waitMirrorsReady(
  qmp: QmpClient, mirrors: readonly NbdMirror[], signal: AbortSignal, onProgress?: (p: MirrorProgress) => void,
): Promise<void> {
  for (;;) {
    if (signal.aborted) throw abortError(signal, 'mirroring the disks to the target');
    const js = await jobs(qmp, mirrors, signal);
    if (js.length < mirrors.length) {
      const gone = mirrors.filter((m) => !js.some((j) => j.device === jobId(m.disk))).map((m) => m.disk);
      throw new PolyvisorError('MIGRATION_FAILED', `mirroring disk ${gone.join(', ')} to the target's NBD export stopped (the target or the link failed)`, { details: { side: 'source', disks: gone } });
    }
    onProgress?.({
      doneBytes: js.reduce((a, j) => a + j.offset, 0), totalBytes: js.reduce((a, j) => a + j.len, 0),
      readyDisks: js.filter((j) => j.ready).length, disks: js.length,
    });
    if (js.every((j) => j.ready)) return;
    await sleep(100, signal);
  }
}

/**
 * Source, vCPUs stopped (pre-switchover): cancelling a ready mirror flushes
 * what is in flight and leaves the target identical to the source.
 */
export async function completeMirrors(qmp: QmpClient, mirrors: readonly NbdMirror[], signal: AbortSignal): Promise<void> {
  const ready = await jobs(qmp, mirrors, signal);
  const notReady = ready.filter((j) => !j.ready);
  if (ready.length < mirrors.length || notReady.length) {
    throw new PolyvisorError('MIGRATION_FAILED', 'a disk mirror fell out of sync before the switch-over', { details: { side: 'source' } });
  }
  for (const j of ready) await qmp.execute('block-job-cancel', { device: j.device }, { signal });
  await waitJobsGone(qmp, mirrors, signal);
  await deleteNbdNodes(qmp, mirrors);
}

/** Source rollback: stop every mirror at once and drop the nbd nodes; the source's own disks are untouched. */
export async function cancelMirrors(qmp: QmpClient, mirrors: readonly NbdMirror[]): Promise<void> {
  const signal = timeoutSignal(30_000);
  for (const j of await jobs(qmp, mirrors, signal).catch(() => [] as BlockJob[])) {
    await qmp.execute('block-job-cancel', { device: j.device, force: true }, { signal }).catch(() => undefined);
  }
  await waitJobsGone(qmp, mirrors, signal).catch(() => undefined);
  await deleteNbdNodes(qmp, mirrors);
}

async function waitJobsGone(qmp: QmpClient, mirrors: readonly NbdMirror[], signal: AbortSignal): Promise<void> {
  while ((await jobs(qmp, mirrors, signal)).length > 0) await sleep(20, signal);
}

async function deleteNbdNodes(qmp: QmpClient, mirrors: readonly NbdMirror[]): Promise<void> {
  for (const m of mirrors) await qmp.execute('blockdev-del', { 'node-name': nbdNode(m.disk) }, { timeoutMs: 10_000 }).catch(() => undefined);
}

/** Restart recovery: cancels every migration mirror job and drops every nbd client node we added, whatever disks they were for. */
export async function cancelAllMirrors(qmp: QmpClient, parent?: AbortSignal): Promise<void> {
  const signal = timeoutSignal(30_000, parent);
  const ours = (await qmp.execute<BlockJob[]>('query-block-jobs', undefined, { signal })).filter((j) => j.device.startsWith('mig-'));
  for (const j of ours) await qmp.execute('block-job-cancel', { device: j.device, force: true }, { signal }).catch(() => undefined);
  while ((await qmp.execute<BlockJob[]>('query-block-jobs', undefined, { signal })).some((j) => j.device.startsWith('mig-'))) await sleep(20, signal);
  const nodes = await qmp.execute<Array<{ 'node-name': string; drv: string }>>('query-named-block-nodes', { flat: true }, { signal });
  for (const n of nodes) {
    if (n.drv === 'nbd' && n['node-name'].startsWith('nbd-')) await qmp.execute('blockdev-del', { 'node-name': n['node-name'] }, { signal }).catch(() => undefined);
  }
}
