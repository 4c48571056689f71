/**
 * libvirt's side of the disk migration benchmark: the test guest with a qcow2
 * data disk moved back and forth with `virsh migrate --live
 * --copy-storage-all` between the system libvirtd and a second one
 * (libvirt-pair.ts). Both daemons read the same domain XML, so the disk (and
 * the serial console socket) live under /var/lib/libvirt/pvbench-disk: the
 * second daemon runs in a private mount namespace where /var/lib/libvirt is
 * bind-mounted from its own directory, so the same path is a different file
 * on each side (non-shared storage on one machine). The destination image is
 * created empty (qemu-img create, same size) before each move, as libvirt
 * requires; libvirt then copies the disk over NBD (drive-mirror) beside RAM.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Guest } from './guest.js';
import { domainPid, domainXml, ensureLibvirt, undefineDomain, type StartedDaemon } from './libvirt.js';
import { startSecondLibvirtd, type SecondLibvirtd } from './libvirt-pair.js';
import { parseJobInfo } from './migration-libvirt.js';
import { unixConsole } from './guest-console.js';
import { prefillDisk, startWriter, writerAfterMove, writerCount, type DiskMover, type DiskMoveSample } from './disk-writer.js';
import { cmdlineOf, run, runOk, sleep, stopPid } from './proc.js';

const SYSTEM = 'qemu:///system';
/** Seen by each daemon at the same path; a different directory on the host for the second one. */
const DISK_DIR = '/var/lib/libvirt/pvbench-disk';

export interface LibvirtDiskOptions {
  root: string;
  benchDir: string;
  guest: Guest;
  name: string;
  memoryKiB: number;
  diskMiB: number;
  rateMB: number;
  /** Daemons this had to start go here; the caller stops them by PID at the end. */
  started: StartedDaemon[];
}

export class LibvirtDiskPair implements DiskMover {
  /** The -m argument libvirt gave QEMU. */
  memoryArg = '?';
  private second: SecondLibvirtd | undefined;
  private at = 0;
  /** Paused by pause() (moves, boots and restarts leave it running). */
  private paused = false;
  private moves = 0;
  private readonly uris: string[] = [SYSTEM];
  /** Host paths of DISK_DIR as side 0 and side 1 see it. */
  private readonly dirs: string[] = [DISK_DIR];

  private constructor(private readonly o: LibvirtDiskOptions) {}

  static async start(o: LibvirtDiskOptions): Promise<LibvirtDiskPair> {
    const p = new LibvirtDiskPair(o);
    o.started.push(...(await ensureLibvirt()));
    const lv2 = path.join(o.root, `lv2-${o.name}`);
    p.second = await startSecondLibvirtd(lv2, o.benchDir);
    p.uris.push(p.second.uri);
    p.dirs.push(path.join(lv2, 'lib', path.basename(DISK_DIR)));
    for (const d of p.dirs) mkdirSync(d, { recursive: true });
    await p.boot();
    return p;
  }

  private image(side: number): string {
    return path.join(this.dirs[side]!, `${this.o.name}.qcow2`);
  }

  private readonly open = () => unixConsole(path.join(this.dirs[this.at]!, `${this.o.name}.console`));

  private async freshImage(side: number): Promise<void> {
    rmSync(this.image(side), { force: true });
    await runOk('qemu-img', ['create', '-q', '-f', 'qcow2', this.image(side), `${this.o.diskMiB}M`], 60_000);
  }

  private async boot(): Promise<void> {
    const { root, guest: g, name } = this.o;
    const serialLog = path.join(root, `${name}.serial.log`);
    const xml = domainXml({
      name, memoryMiB: 0, vcpus: 1, machine: 'q35', cpuModel: 'max', kernel: g.kernel, initrd: g.initrd,
      cmdline: `${g.cmdline} pv.name=${name}`, serialLog, agentSocket: null,
    })
      .replace(/<memory unit='MiB'>\d+<\/memory>/, `<memory unit='KiB'>${this.o.memoryKiB}</memory>`)
      .replace(/<serial type='file'>[\s\S]*?<\/serial>/, [
        "<serial type='unix'>",
        `<source mode='bind' path='${DISK_DIR}/${name}.console'/>`,
        `<log file='${serialLog}' append='on'/>`,
        "<target port='0'/></serial>",
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>",
        `<source file='${DISK_DIR}/${name}.qcow2'/><target dev='vda' bus='virtio'/></disk>`,
      ].join('\n    '));
    const xmlFile = path.join(root, `${name}.xml`);
    writeFileSync(xmlFile, xml);
    this.at = 0;
    await this.freshImage(0);
    await runOk('virsh', ['-c', SYSTEM, 'create', xmlFile], 120_000);
    const deadline = Date.now() + 120_000;
    while (!readFileSync(serialLog, 'utf8').includes(g.readyLine)) {
      if (Date.now() > deadline) throw new Error(`libvirt guest ${name}: no ${g.readyLine} in ${serialLog}`);
      await sleep(200);
    }
    const pid = domainPid(name);
    const argv = pid === null ? [] : cmdlineOf(pid);
    this.memoryArg = argv[argv.indexOf('-m') + 1] ?? '?';
    await prefillDisk(this.open, this.o.diskMiB);
    await startWriter(this.open, this.o.diskMiB, this.o.rateMB);
  }

  private async runningOn(side: number): Promise<boolean> {
    const r = await run('virsh', ['-c', this.uris[side]!, 'domstate', this.o.name], 60_000);
    return r.code === 0 && r.stdout.trim() === 'running';
  }

  async move(): Promise<DiskMoveSample> {
    if (this.paused) await this.resume();
    const { name } = this.o;
    const to = 1 - this.at;
    const fail = (wallMs: number, error: string, extra: Partial<DiskMoveSample> = {}): DiskMoveSample =>
      ({ ok: false, totalMs: null, downtimeMs: null, pauseMs: null, wallMs, rateMBps: null, mirror: '–', error, ...extra });
    await this.freshImage(to);
    const before = await writerCount(this.open);
    const port = 49400 + (this.moves++ % 50);
    const t0 = Date.now();
    const r = await run('virsh', [
      '-c', this.uris[this.at]!, 'migrate', '--live', '--copy-storage-all', name, this.uris[to]!,
      '--migrateuri', `tcp://127.0.0.1:${port}`, '--listen-address', '127.0.0.1',
    ], 600_000);
    const wallMs = Date.now() - t0;
    if (r.code !== 0) {
      const error = (r.stderr.trim() || r.stdout.trim() || `exit ${r.code}`).replace(/\s+/g, ' ');
      if (await this.runningOn(this.at)) return fail(wallMs, error);
      if (await this.runningOn(to)) this.at = to;
      else {
        await this.restart();
        return fail(wallMs, `${error} (guest lost; booted again)`);
      }
      return fail(wallMs, error);
    }
    this.at = to;
    const info = parseJobInfo(await runOk('virsh', ['-c', this.uris[to]!, 'domjobinfo', name, '--completed'], 60_000));
    try {
      const rate = await writerAfterMove(this.open, before);
      return { ok: true, totalMs: info.totalMs, downtimeMs: info.downtimeMs, pauseMs: info.downtimeMs, wallMs, rateMBps: rate, mirror: '–' };
    } catch (err) {
      await this.restart();
      return fail(wallMs, `virsh reported success (total ${info.totalMs} ms), then: ${(err as Error).message} (booted again)`, { totalMs: info.totalMs, downtimeMs: info.downtimeMs });
    }
  }

  private async restart(): Promise<void> {
    this.paused = false;
    for (const uri of this.uris) await run('virsh', ['-c', uri, 'destroy', this.o.name], 60_000);
    await this.boot();
  }

  async pause(): Promise<void> {
    if (this.paused) return;
    await runOk('virsh', ['-c', this.uris[this.at]!, 'suspend', this.o.name], 60_000);
    this.paused = true;
  }

  async resume(): Promise<void> {
    if (!this.paused) return;
    await runOk('virsh', ['-c', this.uris[this.at]!, 'resume', this.o.name], 60_000);
    this.paused = false;
  }

  async stop(): Promise<void> {
    for (const uri of this.uris) await run('virsh', ['-c', uri, 'destroy', this.o.name], 60_000).catch(() => undefined);
    await undefineDomain(this.o.name).catch(() => undefined);
    if (this.second) await stopPid(this.second.pid, 'SIGTERM', 15_000);
    rmSync(DISK_DIR, { recursive: true, force: true });
  }
}
