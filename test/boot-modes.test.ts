/** Boot from disk under BIOS and UEFI, SATA disks, odd memory sizes, user-mode port forwards. */
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { testGuest } from './helpers/guest.js';
import { freePort, getWithRetry } from './helpers/http.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

let d: TestDaemon;
beforeAll(async () => {
  d = await startDaemon();
});
afterEach(() => removeAllVms(d));
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

async function bootAndStop(name: string, spec: object): Promise<void> {
  await d.client.createVm(spec);
  expect((await d.client.action(name, 'start')).state).toBe('running');
  await waitForLine(d.client, name, READY, { timeoutMs: limit('boot', 2) });
  await d.client.action(name, 'kill');
}

it('boots the guest disk under BIOS (virtio)', async () => {
  const g = testGuest();
  await bootAndStop('bios', { name: 'bios', memory: '128Mi', boot: { firmware: 'bios' }, disks: [{ name: 'boot', path: g.disk, format: 'raw', readOnly: true }] });
});

it('boots the guest disk under BIOS from a SATA disk (a writable copy: QEMU has no read-only SATA disks)', async () => {
  const copy = path.join(d.stateDir, 'sata-copy.raw');
  copyFileSync(testGuest().disk, copy);
  await bootAndStop('sata', { name: 'sata', memory: '128Mi', disks: [{ name: 'boot', path: copy, format: 'raw', bus: 'sata' }] });
});

it('boots the guest disk under UEFI (OVMF)', async () => {
  const g = testGuest();
  await bootAndStop('uefi', { name: 'uefi', memory: '256Mi', boot: { firmware: 'uefi' }, disks: [{ name: 'boot', path: g.disk, format: 'raw', readOnly: true }] });
});

it('runs with a memory size that is not a multiple of 256 KiB', async () => {
  const v = await d.client.createVm(guestSpec('odd', { memory: '262084Ki' }));
  expect(v.spec.memory).toBe(262084 * 1024);
  await d.client.action('odd', 'start');
  await waitForLine(d.client, 'odd', READY);
  await d.client.action('odd', 'kill');
});

it('forwards a loopback port to the guest web server', async () => {
  const port = await freePort();
  await d.client.createVm(guestSpec('fwd', { networks: [{ portForwards: [{ hostPort: port, guestPort: 80 }] }] }));
  await d.client.action('fwd', 'start');
  await waitForLine(d.client, 'fwd', READY);
  const body = await getWithRetry(`http://127.0.0.1:${port}/`);
  expect(body).toContain('polyvisor-guest fwd');
  await d.client.action('fwd', 'kill');
});
