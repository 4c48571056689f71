/**
 * Storage migration for disks the target cannot see (NBD + blockdev-mirror,
 * the libvirt way):
 *
 * - target (incoming QEMU, -incoming defer): `nbd-server-start` on its
 *   address and one writable `block-export-add` per disk, on the format node
 *   of the empty image it was started with (QEMU activates the image for the
 *   export and defers the device's permissions to the end of the migration);
 * - source: the mirrors themselves (disk-mirrors.ts), then RAM with
 *   pause-before-switchover; the target stops its NBD server before it
 *   resumes the guest.
 */
import type { QmpClient } from '../../qmp/index.js';
import { sleep, timeoutSignal } from '../../shared/index.js';
import type { NbdMirror } from '../migratable.js';
import { mirrorJobId } from './disk-mirrors.js';
import { TLS_OBJECT_ID } from './migrate-tls.js';
import { diskNodes } from './names.js';

/** Target: serve each disk's (empty) image writable over NBD. */
export async function startNbdExports(
  qmp: QmpClient, listen: { host: string; port: number }, disks: readonly string[], tls: boolean, signal: AbortSignal,
  /** Serve on this unix socket instead (an address gate on `listen` joins the allowed peers to it); the mirrors still name `listen`. */
  unixPath?: string,
): Promise<NbdMirror[]> {
  const addr = unixPath !== undefined ? { type: 'unix', data: { path: unixPath } } : { type: 'inet', data: { host: listen.host, port: String(listen.port) } };
  await qmp.execute('nbd-server-start', { addr, ...(tls ? { 'tls-creds': TLS_OBJECT_ID } : {}) }, { signal });
  const out: NbdMirror[] = [];
  for (const disk of disks) {
    await qmp.execute('block-export-add', { type: 'nbd', id: mirrorJobId(disk), 'node-name': diskNodes(disk).format, writable: true, name: disk }, { signal });
    out.push({ disk, host: listen.host, port: listen.port, exportName: disk });
  }
  return out;
}

/** Target: remove the exports and stop the server (before the guest resumes: the devices then take their write permission). */
export async function stopNbdExports(qmp: QmpClient, disks: readonly string[], signal: AbortSignal): Promise<void> {
  for (const disk of disks) await qmp.execute('block-export-del', { id: mirrorJobId(disk) }, { signal }).catch(() => undefined);
  await qmp.execute('nbd-server-stop', undefined, { signal }).catch(() => undefined);
}

interface BlockJob { device: string }

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
