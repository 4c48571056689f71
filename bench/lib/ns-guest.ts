/**
 * The test guest under plain QEMU (TCG) inside a network namespace, with any
 * -netdev (a tap, or user-mode networking), its serial console on a unix
 * socket; `sh` runs a command in the guest's ttyS0 shell and reports how long
 * it took on the host's clock. Stopped by PID.
 */
import { spawn } from 'node:child_process';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { loadGuest } from './guest.js';

let seq = 0;

export class NsGuest {
  private out = '';
  private sock: Socket | null = null;
  pid = 0;

  constructor(readonly ns: string, readonly name: string, private readonly netdev: string[], private readonly dir: string) {}

  /** Boots to the guest's ready line; returns the milliseconds from spawn to it. */
  async boot(timeoutMs = 120_000): Promise<number> {
    const g = loadGuest();
    const serial = path.join(this.dir, `${this.name}.serial`);
    const t0 = performance.now();
    const child = spawn('ip', ['netns', 'exec', this.ns, 'qemu-system-x86_64',
      '-accel', 'tcg', '-m', '192', '-smp', '1', '-nodefaults', '-no-user-config', '-display', 'none',
      '-kernel', g.kernel, '-initrd', g.initrd, '-append', `${g.cmdline} pv.net=dhcp pv.name=${this.name}`,
      ...this.netdev, '-serial', `unix:${serial},server=on,wait=off`], { stdio: 'ignore' });
    this.pid = child.pid ?? 0;
    const deadline = Date.now() + timeoutMs;
    while (!this.sock) {
      try {
        this.sock = await new Promise<Socket>((res, rej) => { const s = connect(serial, () => res(s)); s.once('error', rej); });
      } catch {
        if (Date.now() > deadline) throw new Error(`${this.name}: no serial socket`);
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    this.sock.setEncoding('utf8').on('data', (s: string) => (this.out += s));
    await this.waitFor(new RegExp(g.readyLine), deadline - Date.now());
    return performance.now() - t0;
  }

  private async waitFor(re: RegExp, ms: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.out);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`${this.name}: ${re} not seen; console:\n${this.out.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  /** Runs a shell command in the guest: its output, exit status and host-side milliseconds. */
  async sh(command: string, ms = 300_000): Promise<{ out: string; status: number; ms: number }> {
    const tag = `pv${(++seq).toString(36)}x${Date.now().toString(36)}`;
    const re = new RegExp(`BEGIN-${tag}\\r?\\n([\\s\\S]*?)END-${tag}-(\\d+)`);
    const t0 = performance.now();
    const send = (): void => { this.sock!.write(`x=${tag}; echo "BEGIN-$x"; ${command}; echo "END-$x-$?"\n`); };
    send();
    const first = await this.waitFor(re, 5_000).catch(() => null);
    const m = first ?? (send(), await this.waitFor(re, ms));
    return { out: m[1]!.replace(/\r/g, ''), status: Number(m[2]), ms: performance.now() - t0 };
  }

  stop(): void {
    this.sock?.destroy();
    if (this.pid) try { process.kill(this.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}
