/**
 * NICs on virtual networks when each VM's QEMU runs as its own user (issue
 * 23, `qemuUser: per-vm`), against a real daemon inside a network namespace
 * this test creates (nothing happens in the runner's own namespace):
 *
 * - a VM with a NIC on a NAT network starts confined: its tap is created
 *   owned by the VM's uid and gid (`ip tuntap add … user UID group GID`), its
 *   QEMU (that uid, no capabilities) opens it, and the guest takes its
 *   dnsmasq lease and pings the gateway;
 * - a NIC hot-added to the running VM gets a tap of the same owner;
 * - another VM's QEMU cannot open that tap: QEMU itself, run with the other
 *   VM's exact credentials, is refused by the kernel (the tun driver lets
 *   only the owner, its group or CAP_NET_ADMIN attach);
 * - a tap left behind with another owner (as a daemon running QEMU as root
 *   would have made it) is made again for the VM's uid at the next start.
 *
 * The guest's kernel and initrd are copied into the state directory: the
 * shared guest cache under /root is closed to the VMs' users.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkClient } from '../src/client/index.js';
import { killQemusUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { guestFilesIn } from './helpers/guest.js';
import { procStatusField, qemuPidOf } from './helpers/qemu-proc.js';
import { limit } from './helpers/limits.js';
import { NetnsLab } from './helpers/netns.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

const GW = '10.123.31.1';
const lab = new NetnsLab();
let ns = '';
let d: TestDaemon;
let kernel = '';
let initrd = '';
const nets = (): NetworkClient => new NetworkClient({ endpoint: { socketPath: d.socket } });

beforeAll(async () => {
  ns = await lab.add('pvu');
  d = await startDaemon({ stateDir: tempStateDir('pvu'), netns: ns, env: { POLYVISOR_DEFAULT_NETWORK: '0', POLYVISOR_QEMU_USER: 'per-vm' } });
  ({ kernel, initrd } = guestFilesIn(d.stateDir));
  await nets().create({ name: 'pvu', mode: 'nat', subnet: '10.123.31.0/24' });
}, limit('daemon') + 30_000);

afterAll(async () => {
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
  await lab.cleanup();
});

function spec(name: string, networks: unknown[]) {
  const s = guestSpec(name, { networks } as never, 'pv.net=dhcp');
  return { ...s, boot: { ...s.boot, kernel, initrd } };
}


const uidOf = (pid: number): number => Number(procStatusField(pid, 'Uid').split(/\s+/)[0]);

/** The tun owner and group of a link in the namespace (null when none is set). */
async function tapOwner(tap: string): Promise<{ user: number | null; group: number | null }> {
  const rows = JSON.parse((await lab.exec(ns, 'ip', ['-j', '-d', 'link', 'show', 'dev', tap])).stdout) as Array<{ linkinfo?: { info_data?: { user?: number; group?: number } } }>;
  const data = rows[0]?.linkinfo?.info_data ?? {};
  return { user: data.user ?? null, group: data.group ?? null };
}

describe('taps for QEMUs that run as their VM\'s user', () => {
  const vm: Record<string, { id: string; pid: number; tap: string }> = {};

  it('a VM on a NAT network starts confined: its tap is its uid\'s, and the guest gets its lease and pings the gateway', async () => {
    for (const name of ['ua', 'ub']) {
      const v = await d.client.createVm(spec(name, [{ network: 'pvu' }]));
      await d.client.action(name, 'start');
      await waitForLine(d.client, name, READY);
      const nic = (await nets().vmNics(name))[0]!;
      vm[name] = { id: v.id, pid: qemuPidOf(v.id), tap: nic.tap! };
    }
    for (const v of Object.values(vm)) {
      const uid = uidOf(v.pid);
      expect(uid).toBeGreaterThan(d.qemuUidBase);
      expect(procStatusField(v.pid, 'CapEff')).toBe('0000000000000000');
      expect(await tapOwner(v.tap)).toEqual({ user: uid, group: uid });
    }
    expect(uidOf(vm['ua']!.pid)).not.toBe(uidOf(vm['ub']!.pid));
    const out = await guestShell(d.client, 'ua', `ip -4 -o addr show dev eth0; ping -c 2 -W 2 ${GW} >/dev/null 2>&1 && echo PING-OK || echo PING-FAIL`);
    expect(out).toMatch(/inet 10\.123\.31\.\d+\/24/);
    expect(out).toContain('PING-OK');
  }, 2 * limit('boot') + limit('shell'));

  it('another VM\'s QEMU cannot open the tap: the kernel refuses QEMU run with that VM\'s credentials', () => {
    const other = vm['ub']!.pid;
    const uid = String(uidOf(other));
    const groups = procStatusField(other, 'Groups').split(/\s+/).filter(Boolean).join(',');
    const qemu = readFileSync(`/proc/${other}/cmdline`, 'utf8').split('\0')[0]!;
    const attempt = (tap: string) => spawnSync('ip', ['netns', 'exec', ns, 'setpriv', `--reuid=${uid}`, `--regid=${uid}`, `--groups=${groups}`, '--inh-caps=-all', '--bounding-set=-all', '--',
      qemu, '-machine', 'none', '-nodefaults', '-display', 'none', '-S', '-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`], { encoding: 'utf8', timeout: 20_000 });
    const stolen = attempt(vm['ua']!.tap);
    expect(stolen.status).not.toBe(0);
    expect(stolen.stderr).toMatch(/could not configure \/dev\/net\/tun|Operation not permitted|Device or resource busy/i);
  });

  it('a NIC hot-added to the running VM gets a tap owned by the VM\'s uid, and the guest sees it', async () => {
    const r = await nets().addVmNic('ua', { network: 'pvu' });
    expect(r.live).toBe(true);
    expect(await tapOwner(r.nic.tap!)).toEqual({ user: uidOf(vm['ua']!.pid), group: uidOf(vm['ua']!.pid) });
    const seen = await guestShell(d.client, 'ua', 'for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/eth1 ] && break; sleep 1; done; cat /sys/class/net/eth1/address');
    expect(seen.trim()).toBe(r.nic.mac);
  }, limit('shell', 2));

  it('a tap left with another owner is made again for the VM\'s uid at its next start', async () => {
    await d.client.action('ub', 'stop');
    const tap = vm['ub']!.tap;
    // What a daemon with qemuUser: root leaves behind: a tap of ours (same alias) with no owner.
    await lab.exec(ns, 'ip', ['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    await lab.exec(ns, 'ip', ['link', 'set', 'dev', tap, 'alias', `polyvisor:nic:ub/net0`]);
    expect(await tapOwner(tap)).toEqual({ user: null, group: null });
    await d.client.action('ub', 'start');
    await waitForLine(d.client, 'ub', READY); // a fresh start begins a new serial log
    const pid = qemuPidOf(vm['ub']!.id);
    expect(await tapOwner(tap)).toEqual({ user: uidOf(pid), group: uidOf(pid) });
    const out = await guestShell(d.client, 'ub', `ping -c 2 -W 2 ${GW} >/dev/null 2>&1 && echo PING-OK || echo PING-FAIL`);
    expect(out).toContain('PING-OK');
  }, limit('boot') + limit('shell'));
});
