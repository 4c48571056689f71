/**
 * Hotplug latency (issue 22): from the request to the guest having the new
 * vCPU online / its memory grown, through Polyvisor (`POST /v1/vms/NAME/resize`,
 * what `polyvisor vm resize` sends) beside libvirt (`virsh setvcpus --live`,
 * `virsh attach-device --live` of a `<memory model='dimm'>`) on the same test
 * guest in the same run, rounds interleaved (`bash bench/run.sh hotplug`).
 *
 * Both VMs: q35, TCG, CPU model max, 1 vCPU of 1+ROUNDS, 256 MiB in one guest
 * NUMA node (libvirt wants a NUMA cell for DIMMs; Polyvisor's VM gets the same
 * layout), ROUNDS DIMM slots. The test guest's kernel does not online hot-added
 * CPUs or memory by itself (no udev), so a watcher in each guest's serial shell
 * does what a udev rule would: it polls the cpu and memory directories every
 * 10 ms, onlines what appeared and prints `HPW cpu N LIST` / `HPW mem N
 * MemTotal`; the time is taken when that line reaches the host (Polyvisor's
 * console WebSocket, libvirt's unix-socket serial). Each round adds one vCPU
 * and one 128 MiB DIMM to each VM. The time the call itself took (API answer,
 * virsh exit) is reported too.
 *
 * Writes the `hotplug` section of docs/benchmarks.md. Env: BENCH_ROUNDS (default 5).
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PolyvisorClient } from '../src/client/index.js';
import type { VmSpecInput } from '../src/spec/index.js';
import { loadGuest, type Guest } from './lib/guest.js';
import { polyvisorConsole, unixConsole, type GuestConsole } from './lib/guest-console.js';
import { domainXml, ensureLibvirt, stopLibvirt, undefineDomain, type StartedDaemon } from './lib/libvirt.js';
import { loadNow } from './lib/machine.js';
import { ROOT, startDaemon, stopDaemon, type Daemon } from './lib/polyvisor.js';
import { runOk, sleep } from './lib/proc.js';
import { table, writeSection } from './lib/report.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 5);
const BASE_MIB = 256;
const DIMM_MIB = 128;
const log = (s: string): void => void process.stderr.write(`[hotplug] ${s}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The guest-side watcher (busybox ash, one line): onlines new vCPUs and memory blocks, then says so. */
const WATCHER = [
  'hpw() { set -- /sys/devices/system/cpu/cpu[0-9]*; nc=$#; set -- /sys/devices/system/memory/memory[0-9]*; nm=$#; ev=0;',
  'while :; do set -- /sys/devices/system/cpu/cpu[0-9]*;',
  'if [ $# != $nc ]; then nc=$#; for c in "$@"; do if [ -f $c/online ]; then read o < $c/online; [ "$o" = 0 ] && echo 1 > $c/online; fi; done; read on < /sys/devices/system/cpu/online; echo "HPW cpu $nc $on"; fi;',
  'set -- /sys/devices/system/memory/memory[0-9]*;',
  'if [ $# != $nm ]; then nm=$#; for b in "$@"; do read s < $b/state; [ "$s" = offline ] && echo online > $b/state; done; ev=$((ev+1)); echo "HPW mem $ev $(grep MemTotal /proc/meminfo)"; fi;',
  'usleep 10000; done; }; hpw &',
].join(' ');

interface Side {
  name: string;
  console: GuestConsole;
  addCpu(cpus: number): Promise<void>;
  addDimm(round: number, memoryMiB: number): Promise<void>;
}

/** Waits for `line` (a regex) in console output written after `from`; returns performance.now() when seen. */
async function seen(c: GuestConsole, from: number, re: RegExp, timeoutMs = 120_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (re.test(c.output().slice(from))) return performance.now();
    if (Date.now() > deadline) throw new Error(`no ${re} on the guest console within ${timeoutMs} ms; tail: ${JSON.stringify(c.output().slice(-400))}`);
    await sleep(2);
  }
}

async function waitReady(c: GuestConsole, g: Guest): Promise<void> {
  const deadline = Date.now() + 180_000;
  // The console shows the shell prompt once the guest is up; poke it until it answers.
  while (!/guest# /.test(c.output())) {
    if (Date.now() > deadline) throw new Error(`guest never showed its shell (${g.readyLine}); tail: ${JSON.stringify(c.output().slice(-400))}`);
    c.send('\n');
    await sleep(500);
  }
}

async function polyvisorSide(d: Daemon, g: Guest): Promise<Side & { client: PolyvisorClient }> {
  const client = new PolyvisorClient({ endpoint: { socketPath: d.socket } });
  const name = 'hp-pv';
  const spec = {
    version: 2, name, machine: { type: 'q35' },
    cpu: { count: 1, max: 1 + ROUNDS, model: 'max' },
    memory: { size: `${BASE_MIB}Mi`, max: { size: `${BASE_MIB + DIMM_MIB * ROUNDS}Mi`, slots: ROUNDS }, numa: [{ cpus: `0-${ROUNDS}`, memory: `${BASE_MIB}Mi` }], balloon: { enabled: false } },
    boot: { kernel: g.kernel, initrd: g.initrd, cmdline: `${g.cmdline} pv.name=${name}` },
  } as unknown as VmSpecInput;
  await client.createVm(spec);
  await client.action(name, 'start');
  const console = await polyvisorConsole(client, name);
  await waitReady(console, g);
  return {
    name: 'Polyvisor', console, client,
    addCpu: async (cpus) => void (await client.resizeVm(name, { cpus })),
    addDimm: async (_round, memoryMiB) => void (await client.resizeVm(name, { memoryMiB })),
  };
}

async function libvirtSide(work: string, g: Guest): Promise<Side> {
  const name = 'hp-lv';
  const consolePath = path.join(work, `${name}.console`);
  const xml = domainXml({ name, memoryMiB: BASE_MIB, vcpus: 1, machine: 'q35', cpuModel: 'max', kernel: g.kernel, initrd: g.initrd, cmdline: `${g.cmdline} pv.name=${name}`, serialLog: path.join(work, `${name}.serial.log`), agentSocket: null })
    .replace(`<memory unit='MiB'>${BASE_MIB}</memory>`, `<maxMemory slots='${ROUNDS}' unit='MiB'>${BASE_MIB + DIMM_MIB * ROUNDS}</maxMemory>\n  <memory unit='MiB'>${BASE_MIB}</memory>`)
    .replace('<vcpu>1</vcpu>', `<vcpu current='1'>${1 + ROUNDS}</vcpu>`)
    .replace("<cpu mode='maximum' check='none'/>", `<cpu mode='maximum' check='none'><numa><cell id='0' cpus='0-${ROUNDS}' memory='${BASE_MIB}' unit='MiB'/></numa></cpu>`)
    .replace(/<serial type='file'>[\s\S]*?<\/serial>/, `<serial type='unix'><source mode='bind' path='${consolePath}'/><target port='0'/></serial>`);
  const xmlFile = path.join(work, `${name}.xml`);
  writeFileSync(xmlFile, xml);
  await undefineDomain(name);
  await runOk('virsh', ['-c', 'qemu:///system', 'create', xmlFile], 120_000);
  const deadline = Date.now() + 60_000;
  let console: GuestConsole | undefined;
  while (!console) {
    console = await unixConsole(consolePath).catch(async (err: unknown) => {
      if (Date.now() > deadline) throw err;
      await sleep(100);
      return undefined;
    });
  }
  await waitReady(console, g);
  return {
    name: 'libvirt', console,
    addCpu: async (cpus) => void (await runOk('virsh', ['-c', 'qemu:///system', 'setvcpus', name, String(cpus), '--live'], 120_000)),
    addDimm: async (round) => {
      const dimm = path.join(work, `dimm-${round}.xml`);
      writeFileSync(dimm, `<memory model='dimm'><target><size unit='MiB'>${DIMM_MIB}</size><node>0</node></target></memory>\n`);
      await runOk('virsh', ['-c', 'qemu:///system', 'attach-device', name, dimm, '--live'], 120_000);
    },
  };
}

interface Sample { callMs: number; seenMs: number }

async function main(): Promise<void> {
  const g = loadGuest();
  const work = mkdtempSync(path.join(os.tmpdir(), 'pv-bench-hotplug-'));
  chmodSync(work, 0o755); // libvirt's QEMU (libvirt-qemu) opens the console socket here
  const started: StartedDaemon[] = [];
  let d: Daemon | undefined;
  const sides: Side[] = [];
  try {
    started.push(...(await ensureLibvirt()));
    mkdirSync(path.join(work, 'pv'));
    d = await startDaemon(path.join(work, 'pv'));
    log(`booting both guests (load ${loadNow()})`);
    const [pv, lv] = await Promise.all([polyvisorSide(d, g), libvirtSide(work, g)]);
    sides.push(pv, lv);
    for (const s of sides) s.console.send(`${WATCHER}\n`);
    await sleep(1000);
    const m: Record<string, { cpu: Sample[]; mem: Sample[] }> = { Polyvisor: { cpu: [], mem: [] }, libvirt: { cpu: [], mem: [] } };
    for (let r = 1; r <= ROUNDS; r++) {
      // Alternate who goes first, so neither always runs on a guest the other just disturbed.
      for (const s of r % 2 ? sides : [...sides].reverse()) {
        let from = s.console.output().length;
        let t0 = performance.now();
        await s.addCpu(1 + r);
        let t1 = performance.now();
        let t2 = await seen(s.console, from, new RegExp(`HPW cpu ${1 + r} 0-${r}\\r?\\n`));
        m[s.name]!.cpu.push({ callMs: t1 - t0, seenMs: t2 - t0 });
        await sleep(500);
        from = s.console.output().length;
        t0 = performance.now();
        await s.addDimm(r, BASE_MIB + DIMM_MIB * r);
        t1 = performance.now();
        t2 = await seen(s.console, from, new RegExp(`HPW mem ${r} MemTotal`));
        m[s.name]!.mem.push({ callMs: t1 - t0, seenMs: t2 - t0 });
        log(`round ${r} ${s.name}: vCPU ${m[s.name]!.cpu.at(-1)!.seenMs.toFixed(0)} ms, DIMM ${m[s.name]!.mem.at(-1)!.seenMs.toFixed(0)} ms`);
        await sleep(500);
      }
    }
    const med = (side: string, k: 'cpu' | 'mem', f: keyof Sample): number => median(m[side]![k].map((x) => x[f]));
    const ms = (x: number): string => x.toFixed(0);
    const row = (what: string, k: 'cpu' | 'mem', f: keyof Sample): string[] => [what, ms(med('Polyvisor', k, f)), ms(med('libvirt', k, f)), (med('Polyvisor', k, f) / med('libvirt', k, f)).toFixed(2)];
    const body =
      `## Hotplug latency beside libvirt (\`bench/hotplug.ts\`)\n\n` +
      `The test guest under TCG (q35, CPU max, 256 MiB in one guest NUMA node), one VM through Polyvisor and one domain through libvirt's system daemon, booted together; ${ROUNDS} rounds each adding one vCPU and one 128 MiB DIMM to each, alternating who goes first; medians. "Seen" is from the request to the guest's watcher line (it onlines the new vCPU or memory block as a udev rule would, polling every 10 ms) reaching the host. Load before: ${loadNow()}.\n\n` +
      table(['what', 'Polyvisor ms', 'libvirt ms', 'ratio'], [
        row('vCPU: request → guest has it online (`vm resize --cpus` / `virsh setvcpus --live`)', 'cpu', 'seenMs'),
        row('vCPU: the call itself', 'cpu', 'callMs'),
        row('128 MiB DIMM: request → guest MemTotal grown (`vm resize --memory` / `virsh attach-device --live`)', 'mem', 'seenMs'),
        row('128 MiB DIMM: the call itself', 'mem', 'callMs'),
      ]) +
      '\n';
    process.stdout.write(`${body}\n`);
    writeSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'hotplug', body);
  } finally {
    for (const s of sides) s.console.close();
    await undefineDomain('hp-lv').catch(() => undefined);
    if (d) {
      await new PolyvisorClient({ endpoint: { socketPath: d.socket } }).action('hp-pv', 'kill').catch(() => undefined);
      await stopDaemon(d);
    }
    await stopLibvirt(started);
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
