/**
 * Serial console control frames against a real daemon and guest: a valid
 * resize is acknowledged (and recorded, not forwarded), bad control frames are
 * answered with an error frame while the session stays open, and terminal
 * data (binary, and plain text frames) still reaches the guest's shell.
 * Each test opens a session on a VM of its own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type WebSocket from 'ws';
import { killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { removeAllVms } from './helpers/isolate.js';
import { limit } from './helpers/limits.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';

let d: TestDaemon;
let ws: WebSocket | undefined;
let output = '';
const replies: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  d = await startDaemon();
});
/** Set-up: starts a VM of this test's own (waiting for its guest if `ready`) and opens its serial console. */
async function openTty(name: string, ready: boolean): Promise<WebSocket> {
  await d.client.createVm(guestSpec(name));
  await d.client.action(name, 'start');
  if (ready) await waitForLine(d.client, name, READY, { timeoutMs: limit('boot', 2) });
  output = '';
  replies.length = 0;
  const s = d.client.openConsole(name);
  ws = s;
  s.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) output += data.toString();
    else replies.push(JSON.parse(data.toString()) as Record<string, unknown>);
  });
  await new Promise((res, rej) => { s.once('open', res); s.once('error', rej); });
  return s;
}
afterEach(async () => {
  ws?.close();
  ws = undefined;
  await removeAllVms(d);
});
afterAll(async () => {
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

async function until(cond: () => boolean, what: string, ms = limit('state')): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; output tail: ${output.slice(-500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('serial console resize', () => {
  it('acknowledges a valid resize frame', async () => {
    const ws = await openTty('tty-resize', false);
    ws.send(JSON.stringify({ type: 'resize', cols: 132, rows: 43 }));
    await until(() => replies.length >= 1, 'the resize reply');
    expect(replies[0]).toEqual({ type: 'resized', cols: 132, rows: 43, forwarded: false });
  });

  it('rejects bad control frames without closing the session; data frames still work', async () => {
    const ws = await openTty('tty-bad', true);
    // set-up: the session has had one resize acknowledged already
    ws.send(JSON.stringify({ type: 'resize', cols: 132, rows: 43 }));
    await until(() => replies.length >= 1, 'the resize reply');
    const bad = ['{"type":"resize","cols":-1,"rows":24}', '{"type":"resize","cols":80}', '{"type":"bogus"}', '{not json', '{"type":"resize","cols":"80","rows":"24"}'];
    for (const f of bad) ws.send(f);
    await until(() => replies.length >= 1 + bad.length, 'the error replies');
    for (const r of replies.slice(1)) {
      expect(r['type']).toBe('error');
      expect(r['code']).toBe('INVALID_ARGUMENT');
    }
    expect(ws.readyState).toBe(ws.OPEN);
    ws.send(Buffer.from('echo bin-$((40+2))\n')); // binary: raw terminal data
    await until(() => output.includes('bin-42'), 'bin-42');
    ws.send('echo txt-$((50+5))\n'); // a text frame not starting with "{" is terminal data too
    await until(() => output.includes('txt-55'), 'txt-55');
    ws.send(Buffer.from('{ echo brace-$((1+1)); }\n')); // binary data starting with "{" is not a control frame
    await until(() => output.includes('brace-2'), 'brace-2');
    expect(replies).toHaveLength(1 + bad.length);
    expect(ws.readyState).toBe(ws.OPEN);
  });
});
