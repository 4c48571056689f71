/** A small progress renderer for stderr: one redrawn line on a terminal, a line per second otherwise. */
export interface BarSample {
  fraction: number;
  text: string;
}

export class ProgressBar {
  private lastPrint = 0;
  private drawn = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly width = 24,
  ) {}

  update(s: BarSample): void {
    const f = Math.max(0, Math.min(1, s.fraction));
    const filled = Math.round(f * this.width);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(this.width - filled)}] ${String(Math.round(f * 100)).padStart(3)}% ${s.text}`;
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${line}`);
      this.drawn = true;
      return;
    }
    const now = Date.now();
    if (now - this.lastPrint < 1000) return;
    this.lastPrint = now;
    this.stream.write(`${line}\n`);
  }

  done(): void {
    if (this.drawn) this.stream.write('\n');
    this.drawn = false;
  }
}

export function mib(bytes: number): string {
  return `${(bytes / 1024 ** 2).toFixed(0)} MiB`;
}
