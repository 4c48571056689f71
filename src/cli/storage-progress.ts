/** A progress bar on stderr for storage steps: redrawn in place on a terminal, a line every 2 s otherwise. */
import type { Progress } from '../client/index.js';

export function storageBar(label: string, stream: NodeJS.WriteStream = process.stderr): { update(p: Progress): void; done(): void } {
  let last = 0;
  let drawn = false;
  return {
    update(p) {
      const f = p.fraction ?? (p.totalBytes ? (p.doneBytes ?? 0) / p.totalBytes : undefined);
      const what = [p.phase, p.step].filter(Boolean).join(' ');
      const bytes = p.doneBytes !== undefined ? ` ${(p.doneBytes / 1024 ** 2).toFixed(1)}${p.totalBytes ? `/${(p.totalBytes / 1024 ** 2).toFixed(1)}` : ''} MiB` : '';
      const bar = f === undefined ? '' : `[${'#'.repeat(Math.round(f * 30)).padEnd(30, '-')}] ${(f * 100).toFixed(0).padStart(3)}% `;
      const line = `${label}: ${bar}${what}${bytes}`;
      if (stream.isTTY) {
        stream.write(`\r\x1b[2K${line}`);
        drawn = true;
      } else if (Date.now() - last >= 2000 || f === 1) {
        last = Date.now();
        stream.write(`${line}\n`);
      }
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}
