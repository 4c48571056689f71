/**
 * The test guest booted with plain QEMU (TCG) inside a network namespace, on
 * a tap the plumbing made, its serial console on a unix socket the test
 * reads and writes (the guest's ttyS0 shell).
 */
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { testGuest } from './guest.js';
import { limit } from './limits.js';
import type { NetnsLab } from './netns.js';

let seq = 0;

export class NetnsGuest {
  private out = '';
  private sock: Socket | null = null;
  pid = 0;

  constructor(
    private readonly lab: NetnsLab,
    readonly ns: string,
    readonly name: string,
    readonly tap: string,
    readonly mac: string,
    private readonly dir: string,
  ) {}

  async boot(): Promise<void> {
    const g = testGuest();
    const serial = join(this.dir, `${this.name}.serial`);
    this.pid = this.lab.start(this.ns, 'qemu-system-x86_64', [
      '-accel', 'tcg', '-m', '192', '-smp', '1', '-nodefaults', '-no-user-config', '-display', 'none',
      '-kernel', g.kernel, '-initrd', g.initrd, '-append', `${g.cmdline} pv.net=dhcp pv.name=${this.name}`,
      '-netdev', `tap,id=n0,ifname=${this.tap},script=no,downscript=no`,
      '-device', `virtio-net-pci,netdev=n0,mac=${this.mac}`,
      '-serial', `unix:${serial},server=on,wait=off`,
    ]);
    const deadline = Date.now() + limit('boot');
    while (!this.sock) {
      try {
        this.sock = await new Promise<Socket>((res, rej) => {
          const s = connect(serial, () => res(s));
          s.once('error', rej);
        });
      } catch {
        if (Date.now() > deadline) throw new Error(`${this.name}: no serial socket at ${serial}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    this.sock.setEncoding('utf8').on('data', (s: string) => (this.out += s));
    await this.waitFor(/POLYVISOR-GUEST-READY/, limit('boot'));
  }

  private async waitFor(re: RegExp, ms: number): Promise<RegExpExecArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = re.exec(this.out);
      if (m) return m;
      if (Date.now() > deadline) throw new Error(`${this.name}: ${re} not seen within ${ms} ms; console:\n${this.out.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Runs a shell command in the guest; returns its output and exit status. */
  async sh(command: string, ms = limit('shell')): Promise<{ out: string; status: number }> {
    const tag = `pv${(++seq).toString(36)}x${Date.now().toString(36)}`;
    const re = new RegExp(`BEGIN-${tag}\\r?\\n([\\s\\S]*?)END-${tag}-(\\d+)`);
    const send = (): void => { this.sock!.write(`x=${tag}; echo "BEGIN-$x"; ${command}; echo "END-$x-$?"\n`); };
    send();
    // The shell on ttyS0 starts just after READY: a line sent before it listens is lost, so send once more.
    const first = await this.waitFor(re, 5_000).catch(() => null);
    const m = first ?? (send(), await this.waitFor(re, ms));
    return { out: m[1]!.replace(/\r/g, ''), status: Number(m[2]) };
  }

  close(): void {
    this.sock?.destroy();
  }
}
