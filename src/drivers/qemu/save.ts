/**
 * Suspend to disk (like `virsh managedsave`): pause, migrate the VM state into
 * a unix socket this process listens on, write what arrives to a temp file,
 * fsync and rename it to the save file, then quit QEMU. No shell and no fd
 * passing. On failure: migrate_cancel, remove the temp file, resume the guest
 * if it was running.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { QmpClient } from '../../qmp/index.js';
import { abortError, fsyncDir, isPolyvisorError, PolyvisorError, timeoutSignal, type Logger } from '../../shared/index.js';
import type { RuntimeFiles } from '../driver.js';
import { migrationSocket } from './files.js';
import { SAVE_BANDWIDTH_BYTES_PER_S, waitMigration } from './migration.js';
import { terminate, waitGone } from './process.js';
import { resetCapabilities } from './migrate-source.js';

export interface SaveContext {
  qmp: QmpClient;
  files: RuntimeFiles;
  dir: string;
  pid: number;
  vmId: string;
  logger: Logger;
  /** Tells the instance why the next STOP / exit happens. */
  expect: (what: 'pause' | 'exit', reason: string) => void;
  /** QEMU runs as the VM's own user: lets it connect to the daemon's socket. */
  grantSocket?: (socket: string) => Promise<void>;
}

export async function saveState(c: SaveContext, signal: AbortSignal, onProgress?: (fraction: number) => void): Promise<void> {
  const t0 = Date.now();
  const { status } = await c.qmp.execute<{ status: string }>('query-status', undefined, { signal });
  if (status !== 'running' && status !== 'paused') {
    throw new PolyvisorError('VM_SAVE_FAILED', `cannot save a VM whose QEMU state is "${status}"`);
  }
  const wasRunning = status === 'running';
  const sockPath = migrationSocket(c.dir, 'out');
  const tmp = path.join(c.dir, `.${path.basename(c.files.saveFile)}.partial`);
  const server = net.createServer();
  let conn: net.Socket | undefined;
  let out: WriteStream | undefined;
  let migrating = false;
  try {
    await rm(sockPath, { force: true });
    await rm(tmp, { force: true });
    if (wasRunning) {
      c.expect('pause', 'saving to disk');
      await c.qmp.execute('stop', undefined, { signal });
    }
    const file = createWriteStream(tmp, { flags: 'wx', mode: 0o600 });
    out = file;
    const received = new Promise<void>((resolve, reject) => {
      server.once('connection', (s) => {
        conn = s;
        server.close(); // exactly one sender
        pipeline(s, file).then(resolve, reject);
      });
      server.once('error', reject);
    });
    received.catch(() => undefined); // awaited below; do not leak an unhandled rejection meanwhile
    await new Promise<void>((resolve, reject) => server.listen(sockPath, resolve).once('error', reject));
    await c.grantSocket?.(sockPath);
    // A plain stream: nothing a live migration may have left set (pause-before-switchover would stop the save halfway).
    await resetCapabilities(c.qmp);
    // tls-creds off: a QEMU that arrived by an encrypted move keeps that move's parameter set.
    await c.qmp.execute('migrate-set-parameters', { 'max-bandwidth': SAVE_BANDWIDTH_BYTES_PER_S, 'tls-creds': '', 'tls-hostname': '' }, { signal });
    await c.qmp.execute('migrate', { uri: `unix:${sockPath}` }, { signal });
    migrating = true;
    const info = await waitMigration(c.qmp, { signal, failCode: 'VM_SAVE_FAILED', what: 'saving the VM state', ...(onProgress ? { onProgress } : {}) });
    await raceAbort(received, signal, 'writing the save file');
    migrating = false;
    const fh = await open(tmp, 'r+');
    const size = (await fh.stat()).size;
    await fh.sync().finally(() => fh.close());
    await rename(tmp, c.files.saveFile);
    await fsyncDir(c.dir);
    onProgress?.(1);
    c.logger.info({ ms: Date.now() - t0, bytes: size, qemuMs: info['total-time'] }, 'VM state saved to disk');
  } catch (err) {
    if (migrating) await c.qmp.execute('migrate_cancel').catch(() => undefined);
    conn?.destroy();
    out?.destroy();
    await rm(tmp, { force: true });
    if (wasRunning) await c.qmp.execute('cont').catch((e: unknown) => c.logger.warn({ err: e }, 'could not resume after a failed save'));
    throw isPolyvisorError(err) && err.code !== 'QMP_FAILED'
      ? err
      : new PolyvisorError('VM_SAVE_FAILED', `saving the VM state failed: ${(err as Error).message}`, { cause: err });
  } finally {
    server.close();
    await rm(sockPath, { force: true });
  }
  await quit(c);
}

/** Ends QEMU after a successful save: `quit`, then SIGTERM/SIGKILL if it lingers. */
async function quit(c: SaveContext): Promise<void> {
  c.expect('exit', 'saved to disk');
  await c.qmp.execute('quit', undefined, { timeoutMs: 5_000 }).catch(() => undefined); // the reply may lose the race with the close
  try {
    await waitGone(c.pid, c.vmId, timeoutSignal(10_000));
  } catch {
    await terminate(c.pid, c.vmId, timeoutSignal(10_000));
  }
}

export function raceAbort<T>(p: Promise<T>, signal: AbortSignal, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(abortError(signal, what));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
