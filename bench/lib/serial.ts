/** Waits for a line on a serial log file that QEMU appends to, by polling it every few ms. */
import { closeSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { sleep } from './proc.js';

export interface WaitOptions {
  timeoutMs: number;
  pollMs?: number;
  /** Checked on every poll: throw to give up early (e.g. QEMU died). */
  check?: () => void;
}

function statOrNull(file: string): Stats | null {
  try {
    return statSync(file);
  } catch {
    return null;
  }
}

export interface Seen {
  /** performance.now() at the poll that first saw `needle`. */
  readyAt: number;
  /** performance.now() at the poll that first saw a new file at `file` (created or replaced); NaN if it never was. */
  createdAt: number;
}

/**
 * Waits for `needle` in bytes written to `file` after the call. A file that is
 * replaced (new inode) or truncated is read from its start.
 */
export async function waitForText(file: string, needle: string, o: WaitOptions): Promise<Seen> {
  const pollMs = o.pollMs ?? 5;
  const deadline = performance.now() + o.timeoutMs;
  const first = statOrNull(file);
  let ino = first?.ino ?? -1;
  let offset = first?.size ?? 0;
  let tail = '';
  let createdAt = Number.NaN;
  const buf = Buffer.alloc(64 * 1024);
  for (;;) {
    const st = statOrNull(file);
    if (st && (st.ino !== ino || st.size < offset)) {
      if (st.ino !== ino && Number.isNaN(createdAt)) createdAt = performance.now();
      ino = st.ino;
      offset = 0;
      tail = '';
    }
    if (st && st.size > offset) {
      const fd = openSync(file, 'r');
      try {
        let n: number;
        while ((n = readSync(fd, buf, 0, buf.length, offset)) > 0) {
          offset += n;
          tail += buf.subarray(0, n).toString('latin1');
          if (tail.includes(needle)) return { readyAt: performance.now(), createdAt };
          tail = tail.slice(-needle.length);
        }
      } finally {
        closeSync(fd);
      }
    }
    o.check?.();
    if (performance.now() > deadline) throw new Error(`"${needle}" did not appear in ${file} within ${o.timeoutMs} ms`);
    await sleep(pollMs);
  }
}
