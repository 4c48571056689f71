/**
 * Polyvisor's side of the disk migration benchmark: two polyvisord (own state
 * directories, so the VM's qcow2 data disk is not shared) on 127.0.0.1 and
 * 127.0.0.2; the test guest with a data disk moved back and forth with
 * `{ target: { url, token } }` (policy defaults: the disk is mirrored over NBD).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { MigrationClient, PlatformClient, PolyvisorClient, type MigrationResultView } from '../../src/client/index.js';
import type { Guest } from './guest.js';
import { polyvisorConsole } from './guest-console.js';
import { prefillDisk, startWriter, writerAfterMove, writerCount, type DiskMover, type DiskMoveSample } from './disk-writer.js';
import { startDaemon, stopDaemon, type Daemon } from './polyvisor.js';
import { sleep } from './proc.js';

/** One daemon of a host-to-host pair: its clients and a peer token (what a source needs on it). */
export interface Side { d: Daemon; url: string; vm: PolyvisorClient; mig: MigrationClient; token: string }

export async function side(dir: string, listen: string): Promise<Side> {
  mkdirSync(dir, { recursive: true });
  const d = await startDaemon(dir, { listen });
  const url = (JSON.parse(readFileSync(path.join(dir, 'daemon.json'), 'utf8')) as { url: string }).url;
  const endpoint = { socketPath: d.socket };
  const token = (await new PlatformClient({ endpoint }).createToken('bench', 'peer')).token;
  return { d, url, vm: new PolyvisorClient({ endpoint }), mig: new MigrationClient({ endpoint }), token };
}

export interface PolyvisorDiskOptions {
  root: string;
  guest: Guest;
  name: string;
  /** As Polyvisor takes it; not a multiple of 256 KiB (QEMU 7.2 TCG dirty-page bug). */
  memory: string;
  diskMiB: number;
  rateMB: number;
}

/** "write-blocking (switched 1), sync 2100 ms, converge 40 ms" from the result's stats.mirrors; '–' when absent. */
export function mirrorText(r: MigrationResultView): string {
  const m = r.stats.mirrors;
  if (!m) return '–';
  return `${m.mode}${m.switchedToActive ? ` (switched ${m.switchedToActive})` : ''}, sync ${m.syncMs} ms, converge ${m.convergeMs} ms`;
}

export class PolyvisorDiskPair implements DiskMover {
  readonly daemons: Daemon[] = [];
  private sides: Side[] = [];
  private at = 0;
  /** Paused by pause() (moves, boots and restarts leave it running). */
  private paused = false;

  private constructor(private readonly o: PolyvisorDiskOptions) {}

  /** Starts the two daemons (listed in `daemons` as soon as they run, for the caller's cleanup) and boots the guest. */
  static async start(o: PolyvisorDiskOptions, daemons: Daemon[]): Promise<PolyvisorDiskPair> {
    const p = new PolyvisorDiskPair(o);
    for (const [dir, listen] of [['pv-a', '127.0.0.1:0'], ['pv-b', '127.0.0.2:0']] as const) {
      const s = await side(path.join(o.root, dir), listen);
      daemons.push(s.d);
      p.sides.push(s);
    }
    await p.boot();
    return p;
  }

  private readonly open = () => polyvisorConsole(this.sides[this.at]!.vm, this.o.name);

  private async boot(): Promise<void> {
    const { guest: g, name } = this.o;
    const s = this.sides[this.at]!;
    await s.vm.createVm({
      name, memory: this.o.memory, disks: [{ name: 'data', size: `${this.o.diskMiB}Mi` }],
      boot: { kernel: g.kernel, initrd: g.initrd, cmdline: `${g.cmdline} pv.name=${name}` },
    });
    await s.vm.action(name, 'start');
    const deadline = Date.now() + 120_000;
    while (!(await s.vm.serialLog(name, 1024 * 1024)).includes(g.readyLine)) {
      if (Date.now() > deadline) throw new Error(`polyvisor guest ${name}: no ${g.readyLine}`);
      await sleep(200);
    }
    await prefillDisk(this.open, this.o.diskMiB);
    await startWriter(this.open, this.o.diskMiB, this.o.rateMB);
  }

  private async runningOn(i: number): Promise<boolean> {
    try {
      return (await this.sides[i]!.vm.getVm(this.o.name)).state === 'running';
    } catch {
      return false;
    }
  }

  async move(): Promise<DiskMoveSample> {
    if (this.paused) await this.resume();
    const { name } = this.o;
    const to = 1 - this.at;
    const [from, dest] = [this.sides[this.at]!, this.sides[to]!];
    const fail = (wallMs: number, error: string, extra: Partial<DiskMoveSample> = {}): DiskMoveSample =>
      ({ ok: false, totalMs: null, downtimeMs: null, pauseMs: null, wallMs, rateMBps: null, mirror: '–', error, ...extra });
    const before = await writerCount(this.open);
    const t0 = Date.now();
    let r: MigrationResultView;
    try {
      r = await from.mig.migrate(name, { target: { url: dest.url, token: dest.token } });
    } catch (err) {
      const wallMs = Date.now() - t0;
      const e = err as { code?: string; message?: string };
      const error = `${e.code ?? 'ERROR'}: ${(e.message ?? String(err)).replace(/\s+/g, ' ')}`;
      if (await this.runningOn(this.at)) return fail(wallMs, error);
      if (await this.runningOn(to)) {
        this.at = to;
        return fail(wallMs, error);
      }
      await this.restart();
      return fail(wallMs, `${error} (guest lost; booted again)`);
    }
    const wallMs = Date.now() - t0;
    this.at = to;
    const stats = { totalMs: r.stats.totalTimeMs, downtimeMs: r.stats.downtimeMs, pauseMs: r.stats.downtimeMs + (r.commitMs ?? 0), mirror: mirrorText(r) };
    try {
      const rate = await writerAfterMove(this.open, before);
      return { ok: true, ...stats, wallMs, rateMBps: rate };
    } catch (err) {
      await this.restart();
      return fail(wallMs, `move reported success, then: ${(err as Error).message} (booted again)`, stats);
    }
  }

  private async restart(): Promise<void> {
    this.paused = false;
    for (const s of this.sides) await s.vm.removeVm(this.o.name, { force: true }).catch(() => undefined);
    this.at = 0;
    await this.boot();
  }

  async pause(): Promise<void> {
    if (this.paused) return;
    await this.sides[this.at]!.vm.action(this.o.name, 'pause');
    this.paused = true;
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    await this.sides[this.at]!.vm.action(this.o.name, 'resume');
    this.paused = false;
  }

  async stop(): Promise<void> {
    for (const s of this.sides) await s.vm.removeVm(this.o.name, { force: true }).catch(() => undefined);
    for (const s of this.sides) await stopDaemon(s.d).catch(() => undefined);
  }
}
