/**
 * Each VM's QEMU as its own unprivileged user (issue 23, audit defect 5;
 * `qemuUser: per-vm`, docs/security.md), on a real daemon with real QEMU and
 * the test guest:
 *
 * - the scan: no QEMU of the daemon runs as uid 0; two VMs have two uids, no
 *   capabilities, the seccomp filter on; the VM directories are 0700 and
 *   owned by their VM, the database, the secrets and the allocations root's;
 * - the escape drill: a helper process run with exactly the VM's credentials
 *   (uid, gid, groups, no capabilities — what a QEMU taken over by its guest
 *   would hold, with QEMU's view of the filesystem: the same mount namespace)
 *   reads its own disk, but not the other VM's disk, the daemon's database,
 *   the secrets key or /etc/shadow, and cannot create a file in the state
 *   directory;
 * - files QEMU opens after it started (an external snapshot's overlay, a
 *   backup's target) are granted first, so both work and the guest keeps
 *   running; the uid stays the VM's across a stop and start.
 *
 * The guest's kernel and initrd are copied into the state directory: the
 * shared guest cache under /root is closed to other users, which is the
 * point (VM_FILE_UNREACHABLE names the folder when a spec points there).
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupClient, SnapshotClient } from '../src/client/index.js';
import { isPolyvisorError } from '../src/shared/index.js';
import { killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { guestFilesIn } from './helpers/guest.js';
import { procStatusField, qemuPidOf, qemuProcesses } from './helpers/qemu-proc.js';
import { guestShell } from './helpers/shell.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

let d: TestDaemon;
let kernel = '';
let initrd = '';

beforeAll(async () => {
  d = await startDaemon({ env: { POLYVISOR_QEMU_USER: 'per-vm' } });
  ({ kernel, initrd } = guestFilesIn(d.stateDir));
});
afterAll(async () => {
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

function spec(name: string, disks = [{ name: 'data', size: '16Mi' }]) {
  const s = guestSpec(name, { disks, ...(name === 'alpha' ? { networks: [{ name: 'net0' }] } : {}) } as Parameters<typeof guestSpec>[1]);
  return { ...s, boot: { ...s.boot, kernel, initrd } };
}



/** Runs a command with exactly the credentials of process `pid` (uid, gid, groups, no capabilities). */
function asProcessOf(pid: number, cmd: string[]): { code: number | null; stderr: string } {
  const uid = procStatusField(pid, 'Uid').split(/\s+/)[0]!;
  const gid = procStatusField(pid, 'Gid').split(/\s+/)[0]!;
  const groups = procStatusField(pid, 'Groups').split(/\s+/).filter(Boolean).join(',');
  const r = spawnSync('setpriv', [`--reuid=${uid}`, `--regid=${gid}`, `--groups=${groups}`, '--inh-caps=-all', '--bounding-set=-all', '--', ...cmd], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr };
}

describe('QEMU as a per-VM user (qemuUser: per-vm)', () => {
  const vms: Record<string, { id: string; dir: string; pid: number }> = {};

  it('starts two VMs, each as its own non-root uid without capabilities, under seccomp', async () => {
    for (const name of ['alpha', 'beta']) {
      const v = await d.client.createVm(spec(name));
      await d.client.action(name, 'start');
      await waitForLine(d.client, name, READY);
      const pid = qemuPidOf(v.id);
      vms[name] = { id: v.id, dir: path.join(d.stateDir, 'vms', v.id), pid };
    }
    const uids = Object.values(vms).map((v) => Number(procStatusField(v.pid, 'Uid').split(/\s+/)[0]));
    for (const [i, uid] of uids.entries()) {
      expect(uid).toBeGreaterThan(d.qemuUidBase);
      expect(procStatusField(Object.values(vms)[i]!.pid, 'Uid').split(/\s+/)).toEqual(Array(4).fill(String(uid))); // real, effective, saved, fs
      expect(procStatusField(Object.values(vms)[i]!.pid, 'Gid').split(/\s+/)[0]).toBe(String(uid));
    }
    expect(new Set(uids).size).toBe(2);
    for (const v of Object.values(vms)) {
      expect(procStatusField(v.pid, 'Groups').split(/\s+/)).toContain(String(d.qemuUidBase));
      expect(procStatusField(v.pid, 'CapEff')).toBe('0000000000000000');
      expect(procStatusField(v.pid, 'CapBnd')).toBe('0000000000000000');
      expect(procStatusField(v.pid, 'Seccomp')).toBe('2');
    }
  });

  it('the scan: no QEMU as root; private files keep their owners and modes', () => {
    for (const { pid, argv } of qemuProcesses()) {
      if (!argv[0]!.includes('qemu-system') || !argv.some((a) => a.includes(d.stateDir))) continue;
      expect(procStatusField(pid, 'Uid').split(/\s+/)[0], `QEMU ${pid} (${argv.slice(0, 3).join(' ')})`).not.toBe('0');
    }
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    for (const v of Object.values(vms)) {
      const st = statSync(v.dir);
      expect(mode(v.dir)).toBe('700');
      expect(st.uid).toBe(Number(procStatusField(v.pid, 'Uid').split(/\s+/)[0]));
      expect(statSync(path.join(v.dir, 'disks', 'data.qcow2')).uid).toBe(st.uid);
    }
    expect(mode(d.stateDir)).toBe('710');
    expect(statSync(d.stateDir).gid).toBe(d.qemuUidBase);
    expect(mode(path.join(d.stateDir, 'vms'))).toBe('710');
    for (const f of ['polyvisor.db', 'secrets.key']) {
      expect(statSync(path.join(d.stateDir, f)).uid).toBe(0);
      expect(mode(path.join(d.stateDir, f))).toBe('600');
    }
    const uids = path.join(d.stateDir, 'vms', '.qemu-uids'); // the allocations live with the VM directories (shared by members that share vmsDir)
    expect(mode(uids)).toBe('700');
    expect(statSync(uids).uid).toBe(0);
    expect(existsSync(path.join(d.stateDir, 'qemu-uids'))).toBe(false);
  });

  it('the escape drill: with the VM\'s credentials, its own disk opens and nothing else does', () => {
    const a = vms['alpha']!;
    const b = vms['beta']!;
    // Positive control: the same helper reads what QEMU must read.
    expect(asProcessOf(a.pid, ['head', '-c', '512', path.join(a.dir, 'disks', 'data.qcow2')]).code).toBe(0);
    expect(asProcessOf(a.pid, ['head', '-c', '512', kernel]).code).toBe(0);
    for (const f of [path.join(b.dir, 'disks', 'data.qcow2'), path.join(d.stateDir, 'polyvisor.db'), path.join(d.stateDir, 'secrets.key'), '/etc/shadow', path.join(d.stateDir, 'vms', '.qemu-uids', readdirSync(path.join(d.stateDir, 'vms', '.qemu-uids'))[0]!)]) {
      const r = asProcessOf(a.pid, ['head', '-c', '512', f]);
      expect(r.code, f).not.toBe(0);
      expect(r.stderr, f).toMatch(/Permission denied/);
    }
    const w = asProcessOf(a.pid, ['touch', path.join(d.stateDir, 'planted')]);
    expect(w.code).not.toBe(0);
    expect(w.stderr).toMatch(/Permission denied/);
    const ls = asProcessOf(a.pid, ['ls', path.join(d.stateDir, 'vms')]);
    expect(ls.code).not.toBe(0); // traverse only: no listing of other VMs
  });

  it('files opened after start are granted: an external snapshot and a backup work, the guest runs on', async () => {
    const s = new SnapshotClient({ endpoint: { socketPath: d.socket } });
    const b = new BackupClient({ endpoint: { socketPath: d.socket } });
    const snap = await s.create('alpha', { name: 'ext1', type: 'external' });
    expect(snap).toMatchObject({ type: 'external' });
    const bk = await b.create('alpha');
    expect(bk.id).toBeTruthy();
    // The guest writes through the new overlay (a write QEMU could not make would pause the VM on an I/O error).
    const out = await guestShell(d.client, 'alpha', 'dd if=/dev/urandom of=/dev/vda bs=64k count=16 conv=fsync 2>&1; echo rc=$?');
    expect(out).toMatch(/rc=0/);
    expect((await d.client.getVm('alpha')).state).toBe('running');
  });

  it('closes loopback connections to the API from a QEMU uid: a guest on user-mode networking no longer reaches it (defect 9)', async () => {
    const port = new URL(d.url).port;
    // Positive control: another service on the host's loopback still answers the guest (the network works).
    const service = http.createServer((_req, res) => res.end('HOST-SERVICE-OK'));
    await new Promise<void>((r) => service.listen({ host: '127.0.0.1', port: 0 }, r));
    const servicePort = (service.address() as AddressInfo).port;
    // The busybox guest's wget crashes; nc speaks the request. slirp connects from alpha's QEMU, whose socket is alpha's uid's.
    const get = (p: number | string, urlPath: string) => guestShell(d.client, 'alpha', `printf 'GET ${urlPath} HTTP/1.0\\r\\nHost: 10.0.2.2\\r\\n\\r\\n' | nc -w 4 10.0.2.2 ${p} 2>&1; echo "NC-EXIT $?"`);
    try {
      expect(await get(servicePort, '/')).toContain('HOST-SERVICE-OK');
      const api = await get(port, '/v1/health');
      expect(api).not.toMatch(/HTTP\/1\.[01] \d{3}/); // closed before any answer
      expect(api).toContain('NC-EXIT');
    } finally {
      await new Promise((r) => service.close(r));
    }
    // The same request from the host as root is answered; as another uid of the range it is closed.
    const curl = (pre: string[]) => spawnSync(pre[0] ?? 'curl', [...pre.slice(1), ...(pre.length ? ['curl'] : []), '-s', '-o', '/dev/null', '-w', '%{http_code}', `${d.url}/v1/health`], { encoding: 'utf8' });
    expect(curl([]).stdout).toBe('200');
    const asQemu = curl(['setpriv', `--reuid=${d.qemuUidBase + 42}`, `--regid=${d.qemuUidBase + 42}`, '--clear-groups', '--']);
    expect(asQemu.stdout).toBe('000');
    expect(asQemu.status).not.toBe(0);
    const until = Date.now() + 5_000; // the daemon's log is written asynchronously
    while (!/refused a loopback connection from a VM's QEMU/.test(d.log()) && Date.now() < until) await new Promise((r) => setTimeout(r, 100));
    expect(d.log()).toMatch(/refused a loopback connection from a VM's QEMU/);
  });

  it('keeps the VM\'s uid across a stop and start', async () => {
    const before = procStatusField(vms['beta']!.pid, 'Uid');
    await d.client.action('beta', 'kill');
    await d.client.action('beta', 'start');
    const pid = qemuPidOf(vms['beta']!.id);
    expect(procStatusField(pid, 'Uid')).toBe(before);
  });

  it('refuses a start whose kernel sits behind a folder the VM cannot pass, naming the folder', async () => {
    const closed = mkdtempSync(path.join('/tmp', 'pv-closed-')); // 0700, root's, outside the daemon's folders
    try {
      copyFileSync(kernel, path.join(closed, 'vmlinuz'));
      const s = spec('gamma', []);
      await d.client.createVm({ ...s, boot: { ...s.boot, kernel: path.join(closed, 'vmlinuz') } });
      const err = await d.client.action('gamma', 'start').then(() => undefined, (e: unknown) => e);
      if (!isPolyvisorError(err)) throw new Error(`the start did not fail: ${String(err)}`);
      expect(err.code).toBe('VM_FILE_UNREACHABLE');
      expect(err.message).toContain(closed);
      expect((statSync(closed).mode & 0o777).toString(8)).toBe('700'); // left as it was
      expect((await d.client.getVm('gamma')).state).not.toBe('running');
    } finally {
      rmSync(closed, { recursive: true, force: true });
    }
  });
});
