/**
 * Virtual networks (issue 18): guest-to-guest TCP throughput and round-trip
 * latency on (a) a Polyvisor NAT network (LinuxHostNetworks: bridge, taps with
 * anti-spoofing, dnsmasq, nftables), (b) libvirt's `default` NAT network (a
 * private libvirtd started inside its own namespace, `virsh net-start
 * default`: virbr0, its dnsmasq and iptables rules; the guests are plain QEMU
 * on taps enslaved to virbr0, as libvirt's own <interface type='network'>
 * would plug them) and (c) QEMU user-mode networking (slirp has no
 * guest-to-guest path: one guest to the host's QEMU process, 10.0.2.2). Same
 * run, same test guest (TCG), each in a namespace the bench makes. Also VM
 * start time (spawn to the guest's ready line) with and without a NIC on the
 * Polyvisor network, the plumbing's attach included.
 *
 * Throughput: busybox `dd if=/dev/zero | nc` of BENCH_NET_MIB MiB (default
 * 256) into `nc -l` on the peer (whose byte count is checked), timed on the host around the guest command
 * minus an empty command's time. Latency: `ping -c 20 -i 0.2`, the average.
 * TCG makes absolute figures low: the ratios matter. Needs root.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LinuxHostNetworks, defaultsFor, hostCommandRunner } from '../src/network/index.js';
import { NetnsLab } from '../test/helpers/netns.js';
import { NsGuest } from './lib/ns-guest.js';
import { table, writeSection } from './lib/report.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const MIB = Number(process.env['BENCH_NET_MIB'] ?? 256);
const ROOT = path.resolve(import.meta.dirname, '..');
const lab = new NetnsLab();
const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-netbench-'));
const guests: NsGuest[] = [];
let libvirtDir = '';

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]!; };
const mac = (i: number): string => `52:54:00:be:00:${i.toString(16).padStart(2, '0')}`;
const must = (cmd: string, args: string[]): string => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};

/**
 * Boots a guest; a boot that never reaches the ready line (the TCG guest kernel now and then hangs early
 * on a loaded machine: "8254 timer not connected") is killed and made again, up to 3 times, and not counted.
 */
async function boot(make: () => NsGuest): Promise<{ g: NsGuest; ms: number }> {
  for (let i = 1; ; i++) {
    const g = make();
    guests.push(g);
    try {
      return { g, ms: await g.boot(90_000) };
    } catch (err) {
      g.stop();
      if (i >= 3) throw err;
      console.error(`[bench] ${g.name}: boot hung, trying again`);
    }
  }
}

interface Result { tputMiBs: number[]; rttMs: number[] }

/** A receiver for one round: `ready()` once it listens, `bytes()` what it got once the sender is done. */
interface Receiver { bytes(): Promise<number> }

/** `from` sends MIB MiB to `toIp:5001`, where `listen()` made a receiver; a short count fails the run. */
async function measure(from: NsGuest, toIp: string, listen: () => Promise<Receiver>): Promise<Result> {
  const r: Result = { tputMiBs: [], rttMs: [] };
  const empty = median([(await from.sh('true')).ms, (await from.sh('true')).ms, (await from.sh('true')).ms]);
  for (let i = 0; i < ROUNDS; i++) {
    const rx = await listen();
    const t = await from.sh(`dd if=/dev/zero bs=65536 count=${MIB * 16} 2>/dev/null | nc ${toIp} 5001; echo rc=$?`);
    const got = await rx.bytes();
    if (!/rc=0/.test(t.out) || got !== MIB * 1048576) throw new Error(`${from.name} → ${toIp}: transfer failed (${got} bytes received): ${t.out}`);
    r.tputMiBs.push(MIB / ((t.ms - empty) / 1000));
    const p = await from.sh(`ping -c 20 -i 0.2 -W 2 ${toIp} | tail -1`);
    const m = /= [\d.]+\/([\d.]+)\//.exec(p.out);
    if (!m) throw new Error(`${from.name} → ${toIp}: no ping summary: ${p.out}`);
    r.rttMs.push(Number(m[1]));
  }
  return r;
}

/** busybox nc in the guest; its stdin held open by sleep (nc closes the connection when its stdin ends), the count in /tmp/rx. */
const guestListen = (g: NsGuest) => async (): Promise<Receiver> => {
  await g.sh('rm -f /tmp/rx; (sleep 600 | nc -l -p 5001 | wc -c > /tmp/rx &) ; sleep 0.3');
  return {
    async bytes() {
      for (let i = 0; i < 50; i++) {
        const n = Number((await g.sh('cat /tmp/rx 2>/dev/null')).out.trim());
        if (n > 0) return n;
        await new Promise((res) => setTimeout(res, 100));
      }
      return 0;
    },
  };
};

/** busybox nc on the host side (in namespace `ns`), stdin held open, bytes counted here; stopped by PID. */
const hostListen = (ns: string) => async (): Promise<Receiver> => {
  const child = spawn('ip', ['netns', 'exec', ns, 'busybox', 'nc', '-l', '-p', '5001'], { stdio: ['pipe', 'pipe', 'ignore'] });
  let n = 0;
  child.stdout.on('data', (b: Buffer) => { n += b.length; });
  const done = new Promise<void>((res) => child.once('exit', () => res()));
  await new Promise((res) => setTimeout(res, 300));
  return {
    async bytes() {
      await Promise.race([done, new Promise((res) => setTimeout(res, 10_000))]);
      if (child.exitCode === null && child.pid) process.kill(child.pid, 'SIGKILL');
      return n;
    },
  };
};

const ipOf = async (g: NsGuest): Promise<string> => {
  for (let i = 0; i < 20; i++) {
    const m = /inet (\d+\.\d+\.\d+\.\d+)\//.exec((await g.sh('ip -4 -o addr show dev eth0')).out);
    if (m) return m[1]!;
    await g.sh('udhcpc -i eth0 -n -q -t 5 -T 2 -s /usr/share/udhcpc/default.script >/dev/null 2>&1');
  }
  throw new Error(`${g.name}: no address`);
};

async function polyvisorNat(): Promise<{ r: Result; toHost: Result; startWith: number[]; startWithout: number[] }> {
  const ns = await lab.add('pv');
  const nets = new LinuxHostNetworks({ stateDir: path.join(dir, 'pv-state'), runner: hostCommandRunner({ netns: ns }) });
  const base = defaultsFor('bench', 'nat', { subnet: '10.123.50.0/24' });
  const def = { ...base, reservations: [1, 2].map((i) => ({ mac: mac(i), ip: `10.123.50.${i + 1}`, hostname: `pv${i}` })) };
  await nets.ensure(def);
  const nic = (i: number, vm: string) => ({
    vm, nic: 'net0', network: 'bench', mac: mac(i), tap: `pvbt${i}`, ip: `10.123.50.${i + 1}`, antiSpoof: true,
    firewall: null, portForwards: [], bandwidth: null, linkUp: true,
  });
  const startWith: number[] = [];
  const startWithout: number[] = [];
  // Start time: spawn to ready, with the tap attached first (as the daemon does) vs no NIC at all.
  for (let i = 0; i < ROUNDS; i++) {
    const t0 = performance.now();
    await nets.attach(nic(9, `st${i}`));
    const attachMs = performance.now() - t0;
    const w = await boot(() => new NsGuest(ns, `st${i}`, ['-netdev', 'tap,id=n0,ifname=pvbt9,script=no,downscript=no', '-device', `virtio-net-pci,netdev=n0,mac=${mac(9)}`], dir));
    startWith.push(attachMs + w.ms);
    w.g.stop();
    await nets.detach(`st${i}`, 'net0');
    const h = await boot(() => new NsGuest(ns, `sn${i}`, [], dir));
    startWithout.push(h.ms);
    h.g.stop();
  }
  for (const i of [1, 2]) await nets.attach(nic(i, `pv${i}`));
  const [a, b] = (await Promise.all([1, 2].map((i) => boot(() => new NsGuest(ns, `pv${i}`, ['-netdev', `tap,id=n0,ifname=pvbt${i},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${mac(i)}`], dir))))).map((x) => x.g);
  await ipOf(a!);
  const bIp = await ipOf(b!);
  const r = await measure(a!, bIp, guestListen(b!));
  const toHost = await measure(a!, '10.123.50.1', hostListen(ns));
  a!.stop(); b!.stop();
  return { r, toHost, startWith, startWithout };
}

async function libvirtDefault(): Promise<Result> {
  const ns = await lab.add('lv');
  libvirtDir = mkdtempSync(path.join(os.tmpdir(), 'pv-netbench-lv-'));
  const uri = must('ip', ['netns', 'exec', ns, 'bash', path.join(ROOT, 'scripts', 'libvirtd.sh'), 'start', libvirtDir]);
  const xml = path.join(libvirtDir, 'default.xml');
  // libvirt's own default network (/usr/share/libvirt/networks/default.xml), as `virsh net-start default` makes it.
  writeFileSync(xml, `<network><name>default</name><forward mode='nat'/><bridge name='virbr0' stp='on' delay='0'/><ip address='192.168.122.1' netmask='255.255.255.0'><dhcp><range start='192.168.122.2' end='192.168.122.254'/></dhcp></ip></network>\n`);
  must('virsh', ['-c', uri, 'net-define', xml]);
  must('virsh', ['-c', uri, 'net-start', 'default']);
  for (const i of [1, 2]) {
    const tap = `lvbt${i}`;
    for (const args of [['tuntap', 'add', 'dev', tap, 'mode', 'tap'], ['link', 'set', 'dev', tap, 'master', 'virbr0'], ['link', 'set', 'dev', tap, 'up']]) must('ip', ['netns', 'exec', ns, 'ip', ...args]);
  }
  const gs = (await Promise.all([1, 2].map((i) => boot(() => new NsGuest(ns, `lv${i}`, ['-netdev', `tap,id=n0,ifname=lvbt${i},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${mac(0x10 + i)}`], dir))))).map((x) => x.g);
  await ipOf(gs[0]!);
  const bIp = await ipOf(gs[1]!);
  const r = await measure(gs[0]!, bIp, guestListen(gs[1]!));
  gs.forEach((g) => g.stop());
  return r;
}

async function userNet(): Promise<Result> {
  const ns = await lab.add('un');
  const { g } = await boot(() => new NsGuest(ns, 'un1', ['-netdev', 'user,id=n0', '-device', `virtio-net-pci,netdev=n0,mac=${mac(0x20)}`], dir));
  await ipOf(g);
  // slirp connects from the QEMU process's namespace to 127.0.0.1:5001 for 10.0.2.2:5001.
  const r = await measure(g, '10.0.2.2', hostListen(ns));
  g.stop();
  return r;
}

async function main(): Promise<void> {
  const f = (x: number, d = 2): string => x.toFixed(d);
  try {
    const pv = await polyvisorNat();
    const lv = await libvirtDefault();
    const un = await userNet();
    const rows: Array<[string, Result]> = [
      ['Polyvisor NAT network (guest → guest)', pv.r], ['libvirt default NAT network (guest → guest)', lv],
      ['Polyvisor NAT network (guest → host, the gateway)', pv.toHost], ['QEMU user-mode (guest → host, slirp 10.0.2.2)', un],
    ];
    const pvT = median(pv.r.tputMiBs);
    const pvL = median(pv.r.rttMs);
    const body = [
      '## Virtual networks (bench/network.ts)',
      '',
      `Run ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), shared; QEMU under TCG, the busybox test guest (192 MiB, 1 vCPU, virtio-net), ${ROUNDS} rounds, median. Throughput: ${MIB} MiB from busybox \`dd | nc\` into \`nc -l\`, timed on the host around the guest command (an empty command's time subtracted). Latency: \`ping -c 20 -i 0.2\`, average. Each network in its own namespace made by the bench; libvirt is a private libvirtd (\`scripts/libvirtd.sh\`) in its namespace with its \`default\` network started by \`virsh net-start\` (virbr0, dnsmasq, iptables-nft rules) and the guests as plain QEMU on taps enslaved to virbr0. User-mode networking has no guest-to-guest path, so (c) is one guest to the QEMU host side (10.0.2.2), and its peer is the Polyvisor row "guest → host" (the same guest sending to busybox \`nc -l\` on the bridge's gateway address). Guest-to-guest rows have a second TCG guest receiving, which costs more than a host-side receiver: compare rows of the same kind.`,
      '',
      table(['network', 'throughput MiB/s', 'vs Polyvisor', 'RTT ms', 'vs Polyvisor'], rows.map(([n, r]) => {
        const t = median(r.tputMiBs);
        const l = median(r.rttMs);
        return [n, f(t), `${f(t / pvT)}x`, f(l, 3), `${f(l / pvL)}x`];
      })),
      '',
      'VM start (spawn to the guest\'s ready line; with a NIC the Polyvisor attach — tap, bridge port, nftables reload — is included):',
      '',
      table(['start', 'median ms', 'ratio'], [
        ['no NIC', f(median(pv.startWithout), 0), '1.00x'],
        ['one NIC on the Polyvisor NAT network', f(median(pv.startWith), 0), `${f(median(pv.startWith) / median(pv.startWithout))}x`],
      ]),
      '',
      `Raw: Polyvisor to host ${pv.toHost.tputMiBs.map((x) => f(x)).join(', ')} MiB/s, ${pv.toHost.rttMs.map((x) => f(x, 3)).join(', ')} ms; Polyvisor ${pv.r.tputMiBs.map((x) => f(x)).join(', ')} MiB/s, ${pv.r.rttMs.map((x) => f(x, 3)).join(', ')} ms; libvirt ${lv.tputMiBs.map((x) => f(x)).join(', ')} MiB/s, ${lv.rttMs.map((x) => f(x, 3)).join(', ')} ms; user-mode ${un.tputMiBs.map((x) => f(x)).join(', ')} MiB/s, ${un.rttMs.map((x) => f(x, 3)).join(', ')} ms; start with NIC ${pv.startWith.map((x) => f(x, 0)).join(', ')} ms, without ${pv.startWithout.map((x) => f(x, 0)).join(', ')} ms.`,
    ].join('\n');
    console.log(body);
    if (!process.env['BENCH_NO_WRITE']) writeSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'network', body);
  } finally {
    guests.forEach((g) => g.stop());
    if (libvirtDir) {
      spawnSync('bash', [path.join(ROOT, 'scripts', 'libvirtd.sh'), 'stop', libvirtDir], { stdio: 'inherit' });
      rmSync(libvirtDir, { recursive: true, force: true });
    }
    await lab.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
