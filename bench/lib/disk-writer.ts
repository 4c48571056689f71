/**
 * A disk writer in the test guest, started through its serial shell: the whole
 * disk (/dev/vda) is first filled with one random 4 MiB block, so every move
 * copies the same, fully allocated disk; then a background loop writes that
 * block at consecutive 4 MiB offsets (wrapping) with O_DIRECT, paced against
 * /proc/uptime to a target rate (it sleeps when ahead; when more than 1 s
 * behind, e.g. after a pause, it does not try to catch up). It counts the
 * blocks in /run/wr.n, so the rate during a move and that it still runs after
 * one can be read from the shell.
 */
import { shellRun, type GuestConsole } from './guest-console.js';

export const BLOCK_BYTES = 4 * 1024 * 1024;
type Open = () => Promise<GuestConsole>;

/** Makes the random block and writes it over the whole disk (`diskMiB`, a multiple of 4). */
export async function prefillDisk(open: Open, diskMiB: number, timeoutMs = 300_000): Promise<void> {
  await shellRun(open, 'dd if=/dev/urandom of=/run/blk bs=1M count=4 2>/dev/null', 30_000);
  const out = await shellRun(open, `i=0; while [ $i -lt ${diskMiB} ]; do dd if=/run/blk of=/dev/vda bs=1M count=4 seek=$i oflag=direct 2>/dev/null || break; i=$((i+4)); done; echo "filled=$i"`, timeoutMs);
  if (!out.includes(`filled=${diskMiB}`)) throw new Error(`prefill of /dev/vda stopped: ${out.trim()}`);
}

/** Starts the paced writer in the background (`rateMB` in 10^6 bytes/s). */
export async function startWriter(open: Open, diskMiB: number, rateMB: number): Promise<void> {
  // Centiseconds from /proc/uptime ("123.45" -> 12345); w = how far ahead of the target we are, in cs.
  const loop = [
    `R=${rateMB * 1_000_000}; B=${BLOCK_BYTES}; n=0; i=0`,
    'read u _ </proc/uptime; t0=${u%.*}${u#*.}',
    'while :; do dd if=/run/blk of=/dev/vda bs=1M count=4 seek=$i oflag=direct 2>/dev/null; n=$((n+1))',
    `i=$(((i+4)%${diskMiB})); echo $n >/run/wr.n`,
    'read u _ </proc/uptime; t=${u%.*}${u#*.}; w=$((n*B*100/R-(t-t0)))',
    'if [ $w -gt 0 ]; then usleep $((w*10000)); elif [ $w -lt -100 ]; then t0=$((t-n*B*100/R)); fi; done',
  ].join('; ');
  await shellRun(open, `(${loop}) >/dev/null 2>&1 & echo $! >/run/wr.pid`, 30_000);
  const a = await writerCount(open);
  await new Promise((r) => setTimeout(r, 1500));
  const b = await writerCount(open);
  if (!(b.n > a.n)) throw new Error(`the disk writer does not write (block count ${a.n} then ${b.n})`);
}

export interface WriterCount {
  /** Blocks written so far. */
  n: number;
  /** Guest uptime, seconds. */
  uptime: number;
}

export async function writerCount(open: Open, timeoutMs = 30_000): Promise<WriterCount> {
  const out = await shellRun(open, 'cat /run/wr.n 2>/dev/null || echo 0; cat /proc/uptime', timeoutMs);
  const [n, up] = out.trim().split('\n');
  return { n: Number(n), uptime: Number(up?.split(' ')[0]) };
}

/** MB/s (10^6) the writer achieved between two counts. */
export const writerRate = (a: WriterCount, b: WriterCount): number => ((b.n - a.n) * BLOCK_BYTES) / 1e6 / Math.max(0.01, b.uptime - a.uptime);

/**
 * After a move: the shell answers on the destination and the writer's count
 * goes on (two reads `gapMs` apart). Returns the rate since `before` (the
 * count read just before the move), so over the move itself.
 */
export async function writerAfterMove(open: Open, before: WriterCount, gapMs = 1500): Promise<number> {
  const a = await writerCount(open);
  await new Promise((r) => setTimeout(r, gapMs));
  const b = await writerCount(open);
  if (!(b.n > a.n)) throw new Error(`the guest answers but its disk writer stopped (block count ${a.n} then ${b.n})`);
  return writerRate(before, a);
}

/** One move of a guest whose disk is being written, by either tool. */
export interface DiskMoveSample {
  ok: boolean;
  /** Tool-reported total and downtime (ms); null when the move failed. */
  totalMs: number | null;
  downtimeMs: number | null;
  /** What the guest saw paused: Polyvisor downtime + commit round trip; libvirt's downtime is already stop → resume. */
  pauseMs: number | null;
  wallMs: number;
  /** The guest writer's rate (MB/s) over the move. */
  rateMBps: number | null;
  /** Polyvisor: the mirror mode and times; libvirt: '–'. */
  mirror: string;
  error?: string;
}

export interface DiskMover {
  /** Moves the guest to the other side; never throws for a failed move (ok=false, error set). */
  move(): Promise<DiskMoveSample>;
  /** Stops / restarts the guest's vCPUs while the other tool is measured. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}
