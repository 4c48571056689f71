/**
 * The VNC display over a WebSocket (the noVNC transport) against a real
 * daemon and QEMU: the RFB greeting comes through, the version handshake
 * reaches QEMU and its security types come back; a VM without a VNC display
 * is refused with close code 4409. Each test makes its own VMs.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { removeAllVms } from './helpers/isolate.js';
import { scaled } from './helpers/limits.js';
import { guestSpec } from './helpers/vm.js';

let d: TestDaemon;

beforeAll(async () => {
  d = await startDaemon();
});
/** Set-up: a running VM with a VNC display (QEMU answers VNC without the guest having booted). */
async function vncVm(name: string): Promise<string> {
  await d.client.createVm(guestSpec(name, { display: { vnc: true } }));
  await d.client.action(name, 'start');
  return name;
}
afterEach(() => removeAllVms(d));
afterAll(async () => {
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

/** Collects binary frames until `enough` says the bytes so far suffice. */
function readUntil(ws: WebSocket, enough: (b: Buffer) => boolean, timeoutMs = scaled(20_000)): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => {
      ws.off('message', onMessage);
      reject(new Error(`timed out; got ${JSON.stringify(buf.toString('latin1'))}`));
    }, timeoutMs);
    const onMessage = (data: Buffer, isBinary: boolean): void => {
      expect(isBinary).toBe(true);
      buf = Buffer.concat([buf, data]);
      if (enough(buf)) {
        clearTimeout(timer);
        ws.off('message', onMessage);
        resolve(buf);
      }
    };
    ws.on('message', onMessage);
  });
}

describe('VNC over WebSocket', () => {
  it('relays the RFB handshake between the client and QEMU', async () => {
    const ws = d.client.openVnc(await vncVm('vnc1'));
    const greeting = readUntil(ws, (b) => b.length >= 12);
    await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
    expect((await greeting).toString('latin1')).toBe('RFB 003.008\n');
    const types = readUntil(ws, (b) => b.length >= 1 && b.length >= 1 + b[0]!);
    ws.send(Buffer.from('RFB 003.008\n', 'latin1'));
    const t = await types;
    expect(t[0]).toBeGreaterThan(0); // number of security types
    expect([...t.subarray(1, 1 + t[0]!)]).toContain(1); // 1 = None: QEMU's VNC on a unix socket has no password
    const closed = new Promise<number>((res) => ws.once('close', res));
    ws.close();
    await closed;
  });

  it('two viewers at once each get their own session', async () => {
    const vm = await vncVm('vnc2');
    const a = d.client.openVnc(vm);
    const b = d.client.openVnc(vm);
    const [ga, gb] = await Promise.all([readUntil(a, (x) => x.length >= 12), readUntil(b, (x) => x.length >= 12)]);
    expect(ga.toString('latin1')).toBe('RFB 003.008\n');
    expect(gb.toString('latin1')).toBe('RFB 003.008\n');
    a.close();
    b.close();
  });

  it('refuses a VM without a VNC display, and an unknown VM', async () => {
    const closeOf = (ws: WebSocket) => new Promise<{ code: number; reason: string }>((res) => ws.once('close', (code, reason) => res({ code, reason: reason.toString() })));
    await d.client.createVm(guestSpec('novnc'));
    const none = await closeOf(d.client.openVnc('novnc'));
    expect(none.code).toBe(4409);
    expect(none.reason).toMatch(/display\.vnc/);
    expect((await closeOf(d.client.openVnc('ghost'))).code).toBe(4404);
  });
});
