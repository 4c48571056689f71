/**
 * Host-port forwards are checked before QEMU starts, against a real daemon:
 * a port another VM forwards fails with PORT_IN_USE naming that VM (CLI exit
 * 4, API 409), a port some other program holds fails naming the port; the VM
 * is left as it was, and starts once the port is free.
 */
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { freePort, runCli } from './helpers/http.js';
import { removeAllVms } from './helpers/isolate.js';
import { guestSpec } from './helpers/vm.js';

let d: TestDaemon;
beforeAll(async () => {
  d = await startDaemon();
});
afterEach(async () => {
  await removeAllVms(d);
});
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

const withForward = (name: string, hostPort: number) =>
  guestSpec(name, { networks: [{ name: 'net0', portForwards: [{ hostPort, guestPort: 80 }] }] } as Partial<Parameters<typeof guestSpec>[1]>);

describe('host-port forwards checked before QEMU starts', () => {
  it('a port another VM forwards: PORT_IN_USE names that VM, exit 4 / HTTP 409, the VM stays as it was', async () => {
    const port = await freePort();
    await d.client.createVm(withForward('holder', port));
    await d.client.action('holder', 'start');
    await d.client.createVm(withForward('second', port));

    const r = await runCli(['--socket', d.socket, 'vm', 'start', 'second']);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`error[PORT_IN_USE]: host port tcp 127.0.0.1:${port} of VM second is already forwarded by VM holder (running)`);
    expect(r.stderr).not.toContain('Could not set up host forwarding rule');
    await expect(d.client.action('second', 'start')).rejects.toMatchObject({ code: 'PORT_IN_USE', status: 409 });
    const second = await d.client.getVm('second');
    expect(second.state).toBe('created');
    expect(second.runtime ?? null).toBeNull();

    await d.client.action('holder', 'kill');
    expect((await d.client.action('second', 'start')).state).toBe('running');
  });

  it('a port another program holds: PORT_IN_USE names the port; the VM starts once it is free', async () => {
    const holder: Server = createServer();
    await new Promise<void>((r) => holder.listen({ host: '127.0.0.1', port: 0 }, r));
    const port = (holder.address() as AddressInfo).port;
    await d.client.createVm(withForward('web', port));
    try {
      const r = await runCli(['--socket', d.socket, 'vm', 'start', 'web']);
      expect(r.code).toBe(4);
      expect(r.stderr).toContain(`error[PORT_IN_USE]: host port tcp 127.0.0.1:${port} of VM web cannot be forwarded: another program listens on it`);
      expect((await d.client.getVm('web')).state).toBe('created');
    } finally {
      await new Promise((r) => holder.close(r));
    }
    expect((await d.client.action('web', 'start')).state).toBe('running');
  });
});
