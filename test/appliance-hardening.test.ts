/**
 * The appliance hardened (guest/appliance/, docs/appliance.md), looked at from inside the booted
 * image: the SSH daemon's effective flags (dropbear: key-only), the keys from a NoCloud seed and
 * from the guest agent, no password offered, the nftables default-deny input policy, the sysctl
 * values, which processes run as root, the watchdog device held open by an unprivileged feeder,
 * a service restarted after it dies, a graceful shutdown on the agent's guest-shutdown; then the
 * recovery boot entry (single user) and the ACPI power button; last, a hung feeder (SIGSTOP) and the
 * softdog reset that follows (a second boot, about 60 s of waiting).
 *
 * One image (qcow2) from the cached appliance build (`polyvisor appliance build`, the same cache as
 * test/appliance.test.ts), booted with plain QEMU (TCG) and argv arrays: the seed ISO comes from
 * Polyvisor's own seed builder, SSH goes through QEMU's user network forwarded to 127.0.0.1. The
 * recovery boot uses the kernel, initrd and command line of the image's own GRUB recovery entry,
 * loaded with -kernel/-initrd (GRUB's menu has no timeout to pick an entry in).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GuestAgentClient, QmpClient } from '../src/qmp/index.js';
import { buildSeedIso, seedFiles } from '../src/storage/index.js';
import { guestSh, waitForAgent } from './helpers/debian-guest.js';
import { runCli } from './helpers/http.js';
import { limit } from './helpers/limits.js';

const READY = 'POLYVISOR-APPLIANCE-READY';
/** ESP offset in disk.raw (guest/appliance/build.sh: ESP_START sectors of 512 bytes). */
const ESP_OFFSET = 4096 * 512;

let tmp: string;
let image: string;
let keyA: string;
let keyB: string;
let sshPort: number;
let qga: string;
let serial: string;
let qemuPid: number | undefined;
let qemuExited: Promise<number | null>;
const live = new Set<number>();

async function withAgent<T>(socket: string, f: (a: GuestAgentClient) => Promise<T>): Promise<T> {
  const a = await GuestAgentClient.connect(socket, { timeoutMs: limit('shell') });
  try {
    return await f(a);
  } finally {
    a.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function sh(cmd: string, args: string[], timeoutMs = limit('shell')): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    p.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const SSH_OPTS = ['-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=20', '-o', 'LogLevel=VERBOSE'];
function ssh(args: string[]): ReturnType<typeof sh> {
  return sh('ssh', [...SSH_OPTS, '-p', String(sshPort), ...args]);
}

/** Starts QEMU (TCG, 256 MiB, -snapshot, -no-reboot) with `args`, the serial console in `log`. */
function startQemu(log: string, args: string[]): { pid: number | undefined; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn('qemu-system-x86_64', ['-accel', 'tcg', '-m', '256', '-nodefaults', '-display', 'none', '-snapshot', '-no-reboot', '-serial', `file:${log}`, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  if (child.pid !== undefined) live.add(child.pid);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      if (child.pid !== undefined) live.delete(child.pid);
      resolve(code);
    }),
  );
  return { pid: child.pid, exited, stderr: () => stderr };
}

function serialText(log: string): string {
  return existsSync(log) ? readFileSync(log, 'latin1').replaceAll('\r', '') : '';
}

/** Waits for a serial line starting with `prefix`; fails early when QEMU exits. */
async function waitLine(log: string, prefix: string, exited: Promise<unknown>, timeoutMs: number): Promise<string> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = serialText(log).split('\n').find((l) => l.startsWith(prefix));
    if (line) return line;
    if (gone) throw new Error(`QEMU exited before "${prefix}":\n${serialText(log).slice(-1500)}`);
    if (Date.now() > deadline) throw new Error(`no "${prefix}" within ${timeoutMs} ms:\n${serialText(log).slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), 'pv-appliance-hard-'));
  const out = path.join(tmp, 'out');
  const r = await runCli(['appliance', 'build', '--out', out, '--formats', 'qcow2']);
  if (r.code !== 0) throw new Error(`polyvisor appliance build failed (${r.code}): ${r.stderr.slice(-2000)}`);
  image = path.join(out, readdirSync(out).find((f) => f.endsWith('.qcow2'))!);

  keyA = path.join(tmp, 'key-seed');
  keyB = path.join(tmp, 'key-agent');
  for (const k of [keyA, keyB]) {
    const g = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', path.basename(k), '-f', k], { encoding: 'utf8' });
    if (g.status !== 0) throw new Error(`ssh-keygen: ${g.stderr}`);
  }
  const seed = path.join(tmp, 'seed.iso');
  const pub = readFileSync(`${keyA}.pub`, 'utf8').trim();
  await buildSeedIso(seed, seedFiles({ hostname: 'pv-hardened', sshAuthorizedKeys: [pub] }, { name: 'appliance', id: 'i-hardening', macs: [] }));

  sshPort = await freePort();
  qga = path.join(tmp, 'qga.sock');
  serial = path.join(tmp, 'serial.log');
  const q = startQemu(serial, [
    '-drive', `file=${image},format=qcow2,if=virtio`,
    '-drive', `file=${seed},format=raw,media=cdrom,readonly=on`,
    '-nic', `user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:${sshPort}-:22`,
    '-device', 'virtio-serial-pci',
    '-chardev', `socket,path=${qga},server=on,wait=off,id=qga0`,
    '-device', 'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
  ]);
  qemuPid = q.pid;
  qemuExited = q.exited;
  await waitLine(serial, READY, qemuExited, limit('boot', 2));
  await waitForAgent(qga, limit('boot'));
}, limit('operation', 2) + limit('boot', 3));

afterAll(() => {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A shell line run in the appliance by the agent; fails the test on a non-zero exit. */
async function guest(script: string): Promise<string> {
  const r = await guestSh(qga, script);
  expect(r.exitcode, `${script}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

interface Proc { pid: number; ppid: number; uid: number; comm: string; capEff: string }

/** Every process in the appliance: pid, parent, real uid, comm, effective capabilities. */
async function processes(): Promise<Proc[]> {
  // One pass in the guest: each process's comm, then the status lines wanted (parsed here).
  const out = await guest('for d in /proc/[0-9]*; do c=$(cat $d/comm 2>/dev/null) || continue; echo "== ${d#/proc/} $c"; grep -E "^(PPid|Uid|CapEff):" $d/status; done');
  const procs: Proc[] = [];
  for (const block of out.split('== ').slice(1)) {
    const [head, ...lines] = block.trim().split('\n');
    const field = (k: string): string => lines.find((l) => l.startsWith(`${k}:`))?.split(/\s+/)[1] ?? '';
    const sp = head!.indexOf(' ');
    if (!field('Uid')) continue; // gone between the listing and the read
    procs.push({ pid: Number(head!.slice(0, sp)), comm: head!.slice(sp + 1), ppid: Number(field('PPid')), uid: Number(field('Uid')), capEff: field('CapEff') });
  }
  return procs;
}

describe('the appliance, hardened (inside the booted qcow2)', () => {
  it('boots with the firewall, key-only SSH and the watchdog reported on its console', () => {
    const line = serialText(serial).split('\n').find((l) => l.startsWith('POLYVISOR-HARDENING'))!;
    expect(line).toMatch(/firewall=on ssh=key-only watchdog=Software_Watchdog seed=\/dev\/\S+ keys=1 hostname=pv-hardened/);
    expect(serialText(serial)).toMatch(/POLYVISOR-SSH-HOSTKEY ed25519 sha256:\S+/i);
    const uptime = /uptime=([\d.]+)/.exec(serialText(serial).split('\n').find((l) => l.startsWith(READY))!)![1];
    console.log(`appliance (qcow2, TCG) ready at ${uptime} s of guest uptime`);
  });

  it('SSH is key-only: dropbear runs with -s -g (no password logins, root included); the server offers publickey alone; root is locked', async () => {
    const pid = (await guest('cat /run/polyvisor/services/dropbear.pid')).trim();
    const argv = (await guest(`tr '\\0' ' ' < /proc/${pid}/cmdline`)).trim().split(' ');
    expect(argv[0]).toBe('dropbear');
    expect(argv).toEqual(expect.arrayContaining(['-s', '-g', '-j', '-k', '-p', '22']));
    // The shadow file: no account has a usable password.
    const shadow = await guest('cut -d: -f1,2 /etc/shadow');
    for (const l of shadow.trim().split('\n')) expect(l, l).toMatch(/^[a-z]+:!\*$/);
    // The server's own answer to "none": what may continue. A password is not among it.
    const none = await ssh(['-v', '-o', 'PreferredAuthentications=none', 'root@127.0.0.1', 'true']);
    expect(none.code).not.toBe(0);
    const can = /Authentications that can continue: (\S+)/.exec(none.stderr)?.[1];
    expect(can, none.stderr.slice(-1500)).toBe('publickey');
    // A password try is refused before any password is asked for.
    const pw = await ssh(['-o', 'PreferredAuthentications=password,keyboard-interactive', '-o', 'PubkeyAuthentication=no', 'root@127.0.0.1', 'true']);
    expect(pw.code).toBe(255);
    expect(pw.stderr).toContain('Permission denied (publickey)');
  });

  it('logs in with the key from the NoCloud seed, and with one the guest agent added (guest-ssh-add-authorized-keys)', async () => {
    const a = await ssh(['-i', keyA, '-o', 'IdentitiesOnly=yes', 'root@127.0.0.1', 'id -u; hostname']);
    expect(a.code, a.stderr.slice(-1000)).toBe(0);
    expect(a.stdout.trim().split('\n')).toEqual(['0', 'pv-hardened']);
    const before = await ssh(['-i', keyB, '-o', 'IdentitiesOnly=yes', 'root@127.0.0.1', 'true']);
    expect(before.code).toBe(255);
    await withAgent(qga, (c) => c.execute('guest-ssh-add-authorized-keys', { username: 'root', keys: [readFileSync(`${keyB}.pub`, 'utf8').trim()] }));
    const b = await ssh(['-i', keyB, '-o', 'IdentitiesOnly=yes', 'root@127.0.0.1', 'id -un']);
    expect(b.code, b.stderr.slice(-1000)).toBe(0);
    expect(b.stdout.trim()).toBe('root');
  });

  it('nftables: input policy drop, admitting loopback, established, SSH, ICMP echo and DHCP replies; forwarding dropped', async () => {
    const rules = await guest('nft list ruleset');
    const input = /chain input \{([\s\S]*?)\n\t\}/.exec(rules)?.[1] ?? '';
    expect(input, rules).toContain('type filter hook input priority filter; policy drop;');
    expect(input).toContain('iif "lo" accept');
    expect(input).toContain('ct state established,related accept');
    expect(input).toContain('tcp dport 22 accept');
    expect(input).toMatch(/icmp type \{[^}]*echo-request[^}]*\} accept/);
    expect(input).toContain('udp sport 67 udp dport 68 accept');
    expect(rules).toMatch(/chain forward \{\s*type filter hook forward priority filter; policy drop;/);
    // Nothing else listens where the firewall would have to be trusted alone: only SSH on TCP.
    const listening = await guest("netstat -ltn | awk 'NR>2 {print $4}'");
    expect([...new Set(listening.trim().split('\n').map((a) => a.replace(/.*:/, '')))]).toEqual(['22']);
  });

  it('kernel hardening sysctls are applied at boot', async () => {
    const want: Record<string, string> = {
      'kernel.kptr_restrict': '2',
      'kernel.dmesg_restrict': '1',
      'kernel.randomize_va_space': '2',
      'kernel.unprivileged_bpf_disabled': '1',
      'fs.protected_symlinks': '1',
      'fs.protected_hardlinks': '1',
      'net.ipv4.conf.all.rp_filter': '1',
      'net.ipv4.conf.all.accept_redirects': '0',
      'net.ipv4.tcp_syncookies': '1',
      // Set by rcS once the image's modules are in (and their files freed).
      'kernel.modules_disabled': '1',
    };
    const got = await guest(Object.keys(want).map((k) => `cat /proc/sys/${k.replaceAll('.', '/')}`).join('; '));
    expect(Object.fromEntries(Object.keys(want).map((k, i) => [k, got.trim().split('\n')[i]]))).toEqual(want);
  });

  it('runs as root only init, the console getty, the supervisors, dropbear, qemu-ga, acpid and udhcpc; the watchdog feeder holds /dev/watchdog unprivileged', async () => {
    const ps = await processes();
    // Left out: kernel threads (kthreadd, pid 2, and its children) and what this test runs through the agent.
    const agentPid = Number((await guest('cat /run/polyvisor/services/qemu-ga.pid')).trim());
    const byPid = new Map(ps.map((p) => [p.pid, p]));
    const underAgent = (p: Proc): boolean => {
      for (let q: Proc | undefined = p; q; q = byPid.get(q.ppid)) if (q.ppid === agentPid) return true;
      return false;
    };
    const user = ps.filter((p) => p.pid !== 2 && p.ppid !== 2 && !underAgent(p));
    const rootComms = [...new Set(user.filter((p) => p.uid === 0).map((p) => p.comm))].sort();
    expect(rootComms).toEqual(['acpid', 'dropbear', 'getty', 'init', 'pv-supervise', 'qemu-ga', 'udhcpc'].sort());

    const feeder = user.find((p) => p.comm === 'watchdog');
    expect(feeder, JSON.stringify(user)).toBeDefined();
    expect(feeder!.uid).toBe(101);
    expect(feeder!.capEff).toBe('0000000000000000');
    const fds = await guest(`ls -l /proc/${feeder!.pid}/fd/ 2>/dev/null || readlink /proc/${feeder!.pid}/fd/*`);
    expect(fds).toMatch(/\/dev\/watchdog/);
    expect((await guest('cat /sys/class/watchdog/watchdog0/identity')).trim()).toBe('Software Watchdog');
    const wd = await guest('cd /sys/class/watchdog/watchdog0 && cat nowayout state timeout');
    expect(wd.trim().split('\n')).toEqual(['1', 'active', '60']);
  });

  it('a service that dies is started again by its supervisor (dropbear, killed)', async () => {
    const pid = (await guest('cat /run/polyvisor/services/dropbear.pid')).trim();
    await guest(`kill -9 ${pid}`);
    const deadline = Date.now() + limit('state');
    let now = pid;
    while (now === pid || !now) {
      if (Date.now() > deadline) throw new Error('dropbear was not started again');
      await new Promise((r) => setTimeout(r, 500));
      now = (await guest('cat /run/polyvisor/services/dropbear.pid; true')).trim();
    }
    expect((await guest(`cat /proc/${now}/comm`)).trim()).toBe('dropbear');
    expect((await guest('cat /run/polyvisor/services/dropbear.restarts')).trim()).toBe('1');
  });

  it('reports idle memory in use (goal under 32 MiB; printed, not a threshold)', async () => {
    const mem = await guest("grep -E '^(MemTotal|MemAvailable|Shmem):' /proc/meminfo");
    const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(mem)![1]);
    const usedMb = (kb('MemTotal') - kb('MemAvailable')) / 1024;
    // Shmem: mostly the userland itself, which lives in RAM (initramfs).
    console.log(`appliance idle memory in use (MemTotal - MemAvailable): ${usedMb.toFixed(1)} MiB, of which Shmem ${(kb('Shmem') / 1024).toFixed(1)} MiB`);
    expect(usedMb).toBeGreaterThan(0);
  });

  it(
    'shuts down gracefully on the agent\'s guest-shutdown: services stopped by rcK, then power off',
    async () => {
      await withAgent(qga, (c) => c.execute('guest-shutdown', { mode: 'powerdown' }).catch(() => undefined));
      const code = await Promise.race([qemuExited, new Promise((r) => setTimeout(() => r('timeout'), limit('state')))]);
      expect(code).toBe(0);
      const text = serialText(serial);
      expect(text).toContain('POLYVISOR-APPLIANCE-SHUTDOWN mode=poweroff');
      expect(text).toContain('POLYVISOR-APPLIANCE-STOPPED services=stopped');
      expect(qemuPid).toBeDefined();
    },
    limit('state') + 5_000,
  );
});

describe('the recovery boot entry', () => {
  it(
    'boots single-user (no SSH, no network, no agent) with a root shell on the console; the ACPI power button powers off cleanly',
    async () => {
      const raw = path.join(tmp, 'disk.raw');
      const c = spawnSync('qemu-img', ['convert', '-O', 'raw', image, raw], { encoding: 'utf8' });
      expect(c.status, c.stderr).toBe(0);
      const esp = `${raw}@@${ESP_OFFSET}`;
      const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
      const grub = spawnSync('mtype', ['-i', esp, '::/boot/grub/grub.cfg'], { encoding: 'utf8', env }).stdout;
      const entry = /menuentry '[^']*recovery[^']*' \{\s*linux (\S+) ([^\n]*)\n\s*initrd ([^\n]*)\n/.exec(grub);
      expect(entry, grub).not.toBeNull();
      const [, kernel, cmdline, initrds] = entry!;
      expect(cmdline).toContain('pv.recovery=1');
      for (const f of [kernel!, ...initrds!.trim().split(/\s+/)]) {
        const x = spawnSync('mcopy', ['-n', '-i', esp, `::${f}`, path.join(tmp, path.basename(f))], { encoding: 'utf8', env });
        expect(x.status, x.stderr).toBe(0);
      }
      const log = path.join(tmp, 'recovery.log');
      const qmp = path.join(tmp, 'qmp.sock');
      const q = startQemu(log, [
        '-kernel', path.join(tmp, path.basename(kernel!)),
        '-initrd', path.join(tmp, path.basename(initrds!.trim().split(/\s+/)[0]!)),
        '-append', cmdline!,
        '-nic', 'user,model=virtio-net-pci,restrict=on',
        '-qmp', `unix:${qmp},server=on,wait=off`,
      ]);
      const ready = await waitLine(log, READY, q.exited, limit('boot', 2));
      expect(ready).toMatch(/ recovery=1$/);
      await waitLine(log, 'Polyvisor appliance recovery shell', q.exited, limit('shell'));
      expect(serialText(log)).toContain('POLYVISOR-HARDENING firewall=on ssh=off watchdog=off');
      // acpid starts beside the shell: press the button until the shutdown line shows.
      const m = await QmpClient.connect(qmp, { timeoutMs: limit('shell') });
      try {
        const deadline = Date.now() + limit('state');
        while (!serialText(log).includes('POLYVISOR-APPLIANCE-SHUTDOWN')) {
          if (Date.now() > deadline) throw new Error(`no shutdown after the power button:\n${serialText(log).slice(-1500)}`);
          await m.execute('system_powerdown').catch(() => undefined);
          await new Promise((r) => setTimeout(r, 1000));
        }
      } finally {
        m.close();
      }
      const code = await Promise.race([q.exited, new Promise((r) => setTimeout(() => r('timeout'), limit('state')))]);
      expect(code).toBe(0);
      expect(serialText(log)).toContain('POLYVISOR-APPLIANCE-SHUTDOWN mode=poweroff');
      expect(serialText(log)).toContain('POLYVISOR-APPLIANCE-STOPPED');
    },
    limit('boot', 2) + limit('state', 2) + limit('shell'),
  );
});

describe('the watchdog', () => {
  it(
    'resets a hung system: with the feeder stopped (SIGSTOP: alive, so its supervisor does nothing) softdog reboots the machine once its 60 s run out',
    async () => {
      const log = path.join(tmp, 'watchdog.log');
      const agent = path.join(tmp, 'qga-wd.sock');
      const qmpSock = path.join(tmp, 'qmp-wd.sock');
      const q = startQemu(log, [
        '-qmp', `unix:${qmpSock},server=on,wait=off`,
        '-drive', `file=${image},format=qcow2,if=virtio`,
        '-nic', 'user,model=virtio-net-pci,restrict=on',
        '-device', 'virtio-serial-pci',
        '-chardev', `socket,path=${agent},server=on,wait=off,id=qga0`,
        '-device', 'virtserialport,chardev=qga0,name=org.qemu.guest_agent.0',
      ]);
      await waitLine(log, READY, q.exited, limit('boot', 2));
      await waitForAgent(agent, limit('boot'));
      // The appliance's kernel is quiet on the console; QEMU says why the machine went away.
      const monitor = await QmpClient.connect(qmpSock, { timeoutMs: limit('shell') });
      const events: Array<{ event: string; data: unknown }> = [];
      monitor.on('event', (e) => events.push({ event: e.event, data: e.data }));
      const run = async (script: string): Promise<string> => {
        const r = await guestSh(agent, script);
        expect(r.exitcode, `${script}\n${r.stderr}`).toBe(0);
        return r.stdout;
      };
      expect((await run('cd /sys/class/watchdog/watchdog0 && cat state nowayout')).trim().split('\n')).toEqual(['active', '1']);
      const feeder = (await run('for d in /proc/[0-9]*; do [ "$(cat $d/comm 2>/dev/null)" = watchdog ] && echo ${d#/proc/}; done; true')).trim();
      expect(feeder, 'the watchdog feeder process').toMatch(/^\d+$/);
      const stoppedAt = Date.now();
      await run(`kill -STOP ${feeder}`);
      expect((await run(`sed -n 's/^State:\\s*//p' /proc/${feeder}/status`)).trim()).toMatch(/^T/);
      // -no-reboot: the guest's reset ends QEMU (exit 0). Nothing else in the appliance reboots it.
      const code = await Promise.race([q.exited, new Promise((r) => setTimeout(() => r('timeout'), 60_000 + limit('state', 2)))]);
      const waited = (Date.now() - stoppedAt) / 1000;
      monitor.close();
      expect(code, serialText(log).slice(-1500)).toBe(0);
      // A reset the guest did itself (-no-reboot turns it into a shutdown event), not a power-off.
      expect(events.filter((e) => e.event === 'SHUTDOWN').map((e) => e.data), JSON.stringify(events)).toEqual([{ guest: true, reason: 'guest-reset' }]);
      expect(serialText(log)).not.toContain('POLYVISOR-APPLIANCE-SHUTDOWN');
      // The reset came from the timer, not at once: the last feed was at most 10 s before the stop.
      expect(waited).toBeGreaterThan(45);
      console.log(`watchdog reset ${waited.toFixed(1)} s after the feeder was stopped (softdog soft_margin 60 s, fed every 10 s)`);
    },
    limit('boot', 3) + 60_000 + limit('state', 2) + 10_000,
  );
});
