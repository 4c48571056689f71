/**
 * The source's disk mirrors of a host-to-host move (NBD + blockdev-mirror),
 * made to converge whatever the guest does and however busy the host is.
 *
 * - start: one nbd client node and one `blockdev-mirror` sync=full per disk,
 *   in background mode (`auto`, `background`) or active mode
 *   (`write-blocking`: every guest write goes to both sides before it
 *   completes, so the copy can never fall behind).
 * - waitReady: until every job is in sync. In `auto`, a background job that
 *   stops gaining for `stallMs` (the guest writes faster than it copies) is
 *   restarted in write-blocking mode. A job that makes no progress at all for
 *   its limit fails the move with what it saw last.
 * - complete: with the vCPUs stopped (pre-switchover) nothing writes any
 *   more: wait (bounded by the work left: no progress for a while fails) for
 *   every job to be in sync, then `block-job-cancel` each (which copies what
 *   is still dirty and leaves the copy complete without pivoting).
 * - cancel: rollback; the source's own disks are untouched.
 *
 * The mode used, whether a job switched, and the time spent converging at
 * the switch-over are reported in MigrationStats.mirrors.
 */
import type { QmpClient } from '../../qmp/index.js';
import { abortError, mibOf, PolyvisorError, sleep, timeoutSignal, WorkDeadline, type Logger } from '../../shared/index.js';
import type { MigrationTlsFiles, MirrorMode, MirrorProgress, MirrorStats, NbdMirror } from '../migratable.js';
import { TLS_OBJECT_ID } from './migrate-tls.js';
import { diskNodes } from './names.js';

export const mirrorJobId = (disk: string): string => `mig-${diskNodes(disk).format.slice('disk-'.length)}`;
const nbdNode = (disk: string): string => `nbd-${diskNodes(disk).format.slice('disk-'.length)}`;

/** A background mirror that gains nothing for this long is restarted in write-blocking mode (auto). */
export const DEFAULT_MIRROR_STALL_MS = 10_000;
/** No progress at all for this long (at least), in any mode: the target or the link is stuck. */
const GIVE_UP_MIN_MS = 60_000;
const POLL_MS = 100;

interface BlockJob { device: string; len: number; offset: number; ready: boolean; status: string }

export interface DiskMirrorOptions {
  mode: 'auto' | MirrorMode;
  stallMs: number;
  /** Cap on each mirror's background copy (QEMU's job speed), bytes/s; guest writes in write-blocking mode are not capped. */
  speedBytesPerS?: number;
  tls?: MigrationTlsFiles;
  logger: Logger;
  onProgress?: (p: MirrorProgress) => void;
}

export class DiskMirrors {
  private readonly modes = new Map<string, MirrorMode>();
  private readonly errors = new Map<string, string>();
  private readonly offEvents: () => void;
  private switched = 0;
  private syncMs = 0;
  private convergeMs = 0;
  private behindBytes = 0;
  private t0 = Date.now();

  constructor(private readonly qmp: QmpClient, private readonly mirrors: readonly NbdMirror[], private readonly o: DiskMirrorOptions) {
    const ids = new Set(mirrors.map((m) => mirrorJobId(m.disk)));
    this.offEvents = qmp.on('event', (e) => {
      const d = e.data as { device?: string; error?: string; operation?: string; action?: string } | undefined;
      if (!d?.device || !ids.has(d.device)) return;
      if (e.event === 'BLOCK_JOB_ERROR') this.errors.set(d.device, `I/O error on ${d.operation ?? 'an'} operation (${d.action ?? 'report'})`);
      if (e.event === 'BLOCK_JOB_COMPLETED' && d.error) this.errors.set(d.device, d.error);
    });
  }

  async start(signal: AbortSignal): Promise<void> {
    this.t0 = Date.now();
    const first: MirrorMode = this.o.mode === 'write-blocking' ? 'write-blocking' : 'background';
    for (const m of this.mirrors) {
      await this.qmp.execute('blockdev-add', {
        driver: 'nbd', 'node-name': nbdNode(m.disk), server: { type: 'inet', host: m.host, port: String(m.port) }, export: m.exportName,
        ...(this.o.tls ? { 'tls-creds': TLS_OBJECT_ID, 'tls-hostname': this.o.tls.hostname } : {}),
      }, { signal });
      await this.startJob(m, first, signal);
    }
  }

  private async startJob(m: NbdMirror, mode: MirrorMode, signal: AbortSignal): Promise<void> {
    await this.qmp.execute('blockdev-mirror', {
      'job-id': mirrorJobId(m.disk), device: diskNodes(m.disk).format, target: nbdNode(m.disk), sync: 'full', 'auto-dismiss': true,
      'copy-mode': mode, ...(this.o.speedBytesPerS ? { speed: this.o.speedBytesPerS } : {}),
    }, { signal });
    this.modes.set(m.disk, mode);
  }

  private async jobs(signal: AbortSignal): Promise<BlockJob[]> {
    const ids = new Set(this.mirrors.map((m) => mirrorJobId(m.disk)));
    return (await this.qmp.execute<BlockJob[]>('query-block-jobs', undefined, { signal })).filter((j) => ids.has(j.device));
  }

  /** The disks whose job is gone (failed): a move cannot go on without them. */
  private failIfGone(js: BlockJob[], when: string): void {
    const gone = this.mirrors.filter((m) => !js.some((j) => j.device === mirrorJobId(m.disk)));
    if (!gone.length) return;
    const why = gone.map((m) => `${m.disk}: ${this.errors.get(mirrorJobId(m.disk)) ?? 'the job ended without saying why'}`).join('; ');
    throw new PolyvisorError('MIGRATION_FAILED', `mirroring disk ${gone.map((m) => m.disk).join(', ')} to the target's NBD export stopped ${when} (${why})`, {
      details: { side: 'source', disks: gone.map((m) => m.disk) },
    });
  }

  private seen(js: BlockJob[]): string {
    return js.map((j) => `${j.device} ${this.modes.get(this.diskOf(j.device)) ?? '?'} ${j.ready ? 'ready' : j.status} ${mibOf(j.offset, j.len)}`).join(', ');
  }

  private diskOf(jobId: string): string {
    return this.mirrors.find((m) => mirrorJobId(m.disk) === jobId)?.disk ?? jobId;
  }

  /** Until every mirror is in sync; in auto mode a stalled background job goes write-blocking. */
  async waitReady(signal: AbortSignal): Promise<void> {
    const giveUpMs = Math.max(GIVE_UP_MIN_MS, this.o.stallMs * 6);
    const watch = new Map<string, WorkDeadline>();
    const track = (disk: string): WorkDeadline => {
      let w = watch.get(disk);
      if (!w) watch.set(disk, (w = new WorkDeadline(`mirroring disk ${disk} to the target`, { stallMs: this.o.stallMs })));
      return w;
    };
    for (;;) {
      if (signal.aborted) throw abortError(signal, 'mirroring the disks to the target');
      const js = await this.jobs(signal);
      this.failIfGone(js, 'before the disks were in sync');
      this.o.onProgress?.({
        doneBytes: js.reduce((a, j) => a + j.offset, 0), totalBytes: js.reduce((a, j) => a + j.len, 0),
        readyDisks: js.filter((j) => j.ready).length, disks: js.length,
      });
      if (js.every((j) => j.ready)) break;
      for (const j of js.filter((x) => !x.ready)) {
        const disk = this.diskOf(j.device);
        const w = track(disk);
        w.sample(j.len - j.offset, this.seen([j]));
        if (this.o.mode === 'auto' && this.modes.get(disk) === 'background' && w.stalled()) {
          this.o.logger.info({ disk, offset: j.offset, len: j.len, stalledMs: w.stalledMs() }, 'disk mirror stopped gaining on the guest\'s writes: restarting it in write-blocking (active) mode');
          await this.restartActive(disk, signal);
          watch.delete(disk);
        } else if (w.stalledMs() >= giveUpMs) {
          throw new PolyvisorError('MIGRATION_FAILED', `${w.timeout().message}${this.modes.get(disk) === 'background' ? '; the guest may write faster than the mirror copies: use diskMirror "auto" or "write-blocking"' : ''}`, {
            details: { side: 'source', disks: [disk], mode: this.modes.get(disk) },
          });
        }
      }
      await sleep(POLL_MS, signal);
    }
    this.syncMs = Date.now() - this.t0;
    this.o.logger.debug({ ms: this.syncMs, modes: Object.fromEntries(this.modes) }, 'disk mirrors in sync');
  }

  /** Cancels a background job and starts it again in write-blocking mode on the same target node. */
  private async restartActive(disk: string, signal: AbortSignal): Promise<void> {
    const id = mirrorJobId(disk);
    await this.qmp.execute('block-job-cancel', { device: id, force: true }, { signal });
    await this.waitGone([id], signal, `the background mirror of disk ${disk} to stop`);
    this.errors.delete(id);
    const m = this.mirrors.find((x) => x.disk === disk)!;
    await this.startJob(m, 'write-blocking', signal);
    this.switched++;
  }

  /**
   * vCPUs stopped: every mirror in sync (bounded by the work left), then
   * cancel each, which copies what is still dirty and leaves the target
   * identical to the source. What was behind and how long it took to
   * converge are kept for stats().
   */
  async complete(signal: AbortSignal): Promise<void> {
    const t = Date.now();
    const w = new WorkDeadline('disk mirrors converging at the switch-over', { stallMs: Math.max(15_000, this.o.stallMs * 3) });
    let first = true;
    for (;;) {
      const js = await this.jobs(signal);
      this.failIfGone(js, 'at the switch-over');
      const left = js.reduce((a, j) => a + (j.len - j.offset), 0);
      if (first) {
        this.behindBytes = left;
        this.o.logger.debug({ jobs: js }, 'disk mirrors when the migration stopped the vCPUs');
      }
      first = false;
      if (js.every((j) => j.ready)) break;
      w.sample(left, this.seen(js));
      if (w.stalled()) throw new PolyvisorError('MIGRATION_FAILED', w.timeout().message, { details: { side: 'source' } });
      await sleep(20, signal);
    }
    const ids = this.mirrors.map((m) => mirrorJobId(m.disk));
    for (const id of ids) await this.qmp.execute('block-job-cancel', { device: id }, { signal });
    await this.waitGone(ids, signal, 'the disk mirrors to copy what was still dirty');
    this.convergeMs = Date.now() - t;
    if (this.behindBytes > 0) this.o.logger.info({ ms: this.convergeMs, behindBytes: this.behindBytes }, 'disk mirrors were behind at the switch-over and converged with the vCPUs stopped');
    await this.deleteNodes();
  }

  /** Rollback: stop every mirror at once and drop the nbd nodes. */
  async cancel(): Promise<void> {
    const signal = timeoutSignal(30_000);
    for (const j of await this.jobs(signal).catch(() => [] as BlockJob[])) {
      await this.qmp.execute('block-job-cancel', { device: j.device, force: true }, { signal }).catch(() => undefined);
    }
    await this.waitGone(this.mirrors.map((m) => mirrorJobId(m.disk)), signal, 'the disk mirrors to stop').catch(() => undefined);
    await this.deleteNodes();
  }

  close(): void {
    this.offEvents();
  }

  stats(): MirrorStats {
    const modes = [...this.modes.values()];
    return {
      disks: this.mirrors.length, mode: modes.includes('write-blocking') ? 'write-blocking' : 'background', switchedToActive: this.switched,
      syncMs: this.syncMs, convergeMs: this.convergeMs, behindBytes: this.behindBytes,
    };
  }

  /** Until the jobs are gone; bounded by their progress (a job that flushes keeps gaining), not a constant. */
  private async waitGone(ids: string[], signal: AbortSignal, what: string): Promise<void> {
    const w = new WorkDeadline(`waiting for ${what}`, { stallMs: Math.max(15_000, this.o.stallMs * 3) });
    for (;;) {
      const left = (await this.qmp.execute<BlockJob[]>('query-block-jobs', undefined, { signal })).filter((j) => ids.includes(j.device));
      if (!left.length) return;
      w.sample(left.reduce((a, j) => a + (j.len - j.offset), 0), this.seen(left));
      if (w.stalled()) throw w.timeout();
      await sleep(20, signal);
    }
  }

  private async deleteNodes(): Promise<void> {
    for (const m of this.mirrors) await this.qmp.execute('blockdev-del', { 'node-name': nbdNode(m.disk) }, { timeoutMs: 10_000 }).catch(() => undefined);
  }
}
