/**
 * cloud-init on the real Debian 12 guest (guest/debian/build.sh): a VM
 * created through the daemon with a cloudInit spec boots with Polyvisor's
 * NoCloud seed ISO, and the host checks over the guest agent (guest-exec on
 * the VM's qga.sock) that Debian's cloud-init set the hostname from the
 * seed's meta-data, created the user with the SSH key, and ran the script.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killQemusUnder, startDaemon, vmTempDir, type TestDaemon } from './helpers/daemon.js';
import {
  DEBIAN_BUILD_TIMEOUT_MS, agentSocketOf, debianGuest, debianSpec, guestRun, guestSh, overlayOf, waitForAgent, type DebianGuest,
} from './helpers/debian-guest.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';

let d: TestDaemon;
let g: DebianGuest;
let work: string;

beforeAll(async () => {
  g = debianGuest(true);
  d = await startDaemon();
  work = vmTempDir('deb-ci');
}, DEBIAN_BUILD_TIMEOUT_MS);
afterAll(async () => {
  if (d) await removeAllVms(d);
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

/** A fresh ed25519 key pair's public line (the test's own key; nothing logs in with it). */
function publicKey(): string {
  const file = path.join(work, 'id_ed25519');
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'pv-test@host', '-f', file], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr}`);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

describe('cloud-init on the Debian guest', () => {
  it('sets the hostname, creates the user with the SSH key and runs the script', async () => {
    const vm = 'deb-ci';
    const key = publicKey();
    const userData = [
      '#cloud-config',
      'users:',
      '  - default',
      '  - name: alice',
      '    shell: /bin/bash',
      '    lock_passwd: true',
      '    ssh_authorized_keys:',
      `      - ${key}`,
      'runcmd:',
      '  - [sh, -c, \'mkdir -p /var/lib/pv-test && echo "runcmd on $(hostname) as $(id -un)" > /var/lib/pv-test/ran\']',
      '',
    ].join('\n');
    const overlay = overlayOf(g, path.join(work, 'root.qcow2'));
    // No network-config given: the seed's default (DHCP on each NIC found by its MAC, version 1) is what
    // Debian's cloud-init renders into ifupdown config.
    await d.client.createVm(debianSpec(vm, g, overlay, { networks: [{ name: 'net0' }], cloudInit: { hostname: 'ci-debian', userData } }));
    await d.client.action(vm, 'start');
    const sock = agentSocketOf(d.stateDir, (await d.client.getVm(vm)).id);
    await waitForAgent(sock);

    // cloud-init's four stages finish (the final stage runs runcmd)
    const status = await guestRun(sock, ['cloud-init', 'status', '--wait', '--long'], limit('boot', 4));
    expect(status.stdout, status.stdout + status.stderr).toMatch(/status: done/);
    expect(status.stdout).toMatch(/DataSourceNoCloud \[seed=\/dev\/sr\d\]/); // the seed ISO Polyvisor attached
    expect(status.exitcode).toBe(0);

    // hostname from the seed's meta-data (local-hostname = spec cloudInit.hostname)
    expect((await guestRun(sock, ['hostname'])).stdout.trim()).toBe('ci-debian');

    // the user exists, with its key, its own .ssh (0700) and locked password
    const pw = await guestRun(sock, ['getent', 'passwd', 'alice']);
    expect(pw.exitcode).toBe(0);
    expect(pw.stdout).toMatch(/^alice:x:\d+:\d+:[^:]*:\/home\/alice:\/bin\/bash$/m);
    const keys = await guestRun(sock, ['cat', '/home/alice/.ssh/authorized_keys']);
    expect(keys.stdout.split('\n')).toContain(key);
    const perms = await guestRun(sock, ['stat', '-c', '%U %a', '/home/alice/.ssh', '/home/alice/.ssh/authorized_keys']);
    expect(perms.stdout.trim().split('\n')).toEqual(['alice 700', 'alice 600']);

    // the script ran, once, as root, after the hostname was set
    const ran = await guestRun(sock, ['cat', '/var/lib/pv-test/ran']);
    expect(ran.stdout.trim()).toBe('runcmd on ci-debian as root');

    // the default network-config was applied: eth0 got its address from QEMU's user-mode DHCP
    const addr = await guestRun(sock, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
    expect(addr.stdout).toMatch(/inet 10\.0\.2\.\d+\//);

    // and sshd has the key-based login cloud-init prepared (host keys made on first boot)
    const sshd = await guestSh(sock, 'ls /etc/ssh/ssh_host_ed25519_key.pub && systemctl is-active ssh');
    expect(sshd.stdout).toMatch(/active/);
  }, limit('boot', 12));
});
