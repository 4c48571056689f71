/**
 * Resume from disk: QEMU was started with `-incoming defer`; it listens on a
 * unix socket (`migrate-incoming`), we connect and stream the save file into
 * it, wait for the incoming migration to complete, then `cont`. The save file
 * is left in place; the driver deletes it only after the whole start worked.
 */
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { connectUnix, type QmpClient } from '../../qmp/index.js';
import { isPolyvisorError, PolyvisorError, type Logger } from '../../shared/index.js';
import { migrationSocket } from './files.js';
import { waitMigration } from './migration.js';
import { raceAbort } from './save.js';

export interface RestoreContext {
  qmp: QmpClient;
  dir: string;
  saveFile: string;
  signal: AbortSignal;
  logger: Logger;
}

export async function restoreState(c: RestoreContext): Promise<void> {
  const t0 = Date.now();
  const sockPath = migrationSocket(c.dir, 'in');
  try {
    await rm(sockPath, { force: true });
    await c.qmp.execute('migrate-incoming', { uri: `unix:${sockPath}` }, { signal: c.signal });
    const conn = await connectUnix(sockPath, { signal: c.signal, timeoutMs: 10_000, what: 'the incoming migration socket', failCode: 'VM_RESTORE_FAILED' });
    const sent = pipeline(createReadStream(c.saveFile), conn);
    sent.catch(() => undefined); // a failure shows in query-migrate; awaited below
    await waitMigration(c.qmp, { signal: c.signal, failCode: 'VM_RESTORE_FAILED', what: 'restoring the VM state' });
    await raceAbort(sent, c.signal, 'streaming the save file').catch((err: unknown) => {
      // QEMU may close its end as soon as it has read the last section.
      if (!isPolyvisorError(err)) c.logger.debug({ err }, 'save file stream ended early after a completed restore');
      else throw err;
    });
    const { status } = await c.qmp.execute<{ status: string }>('query-status', undefined, { signal: c.signal });
    if (status !== 'running') await c.qmp.execute('cont', undefined, { signal: c.signal });
    c.logger.info({ ms: Date.now() - t0 }, 'VM state restored from disk');
  } catch (err) {
    if (isPolyvisorError(err, 'QMP_DISCONNECTED')) {
      // QEMU exits as soon as it cannot load the stream; its reason goes to a closed stderr.
      throw new PolyvisorError('VM_RESTORE_FAILED', `QEMU exited while loading ${c.saveFile}: the file is damaged or was saved with a different VM config (memory, devices)`, { cause: err });
    }
    throw isPolyvisorError(err) && err.code !== 'QMP_FAILED'
      ? err
      : new PolyvisorError('VM_RESTORE_FAILED', `restoring the VM state from ${c.saveFile} failed: ${(err as Error).message}`, { cause: err });
  } finally {
    await rm(sockPath, { force: true });
  }
}
