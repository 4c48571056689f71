/**
 * QmpClient against a FAKE QMP server: a stand-in for QEMU on a unix socket
 * in a tmp dir, so framing, ids, events, errors, close and timeouts can be
 * provoked at will. real-qemu.test.ts talks to the real thing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isPolyvisorError, PolyvisorError } from '../shared/index.js';
import { QmpClient } from './client.js';
import { JsonLineDecoder } from './framing.js';

const GREETING = { QMP: { version: { qemu: { micro: 22, minor: 2, major: 7 }, package: 'Debian 1:7.2+dfsg-7' }, capabilities: ['oob'] } };

interface Cmd {
  execute: string;
  arguments?: Record<string, unknown>;
  id?: unknown;
}
type Handler = (cmd: Cmd, sock: net.Socket) => void;

const servers: net.Server[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const send = (sock: net.Socket, msg: unknown): boolean => sock.write(`${JSON.stringify(msg)}\r\n`);
const reply = (sock: net.Socket, cmd: Cmd, ret: unknown = {}): boolean => send(sock, { return: ret, id: cmd.id });

/** Fake QEMU: greets (unless told not to), answers qmp_capabilities, hands other commands to `handler`. */
async function fakeQemu(handler: Handler, o: { greet?: (sock: net.Socket) => void } = {}): Promise<{ path: string; sockets: net.Socket[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-qmp-'));
  dirs.push(dir);
  const p = path.join(dir, 'qmp.sock');
  const sockets: net.Socket[] = [];
  const server = net.createServer((sock) => {
    sockets.push(sock);
    sock.on('error', () => undefined);
    (o.greet ?? ((s) => send(s, GREETING)))(sock);
    const dec = new JsonLineDecoder();
    sock.on('data', (chunk: Buffer) => {
      for (const d of dec.push(chunk)) {
        if (!d.ok) continue;
        const cmd = d.value as Cmd;
        if (cmd.execute === 'qmp_capabilities') reply(sock, cmd);
        else handler(cmd, sock);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(p, r));
  return { path: p, sockets };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return isPolyvisorError(err) ? err.code : `plain: ${(err as Error).message}`;
  }
  return 'resolved';
}

describe('QmpClient (fake QEMU)', () => {
  it('reads the greeting, negotiates capabilities and exposes the version', async () => {
    const f = await fakeQemu((cmd, s) => reply(s, cmd, { status: 'running', running: true }));
    const c = await QmpClient.connect(f.path);
    expect(c.version).toMatchObject({ major: 7, minor: 2, micro: 22, text: '7.2.22', package: 'Debian 1:7.2+dfsg-7' });
    expect(await c.execute('query-status')).toEqual({ status: 'running', running: true });
    c.close();
  });

  it('matches replies by id when they come out of order', async () => {
    const held: Array<[Cmd, net.Socket]> = [];
    const f = await fakeQemu((cmd, s) => {
      held.push([cmd, s]);
      if (held.length === 3) for (const [c, so] of held.reverse()) reply(so, c, { echo: c.arguments?.['n'] });
    });
    const c = await QmpClient.connect(f.path);
    const results = await Promise.all([1, 2, 3].map((n) => c.execute('echo', { n })));
    expect(results).toEqual([{ echo: 1 }, { echo: 2 }, { echo: 3 }]);
    c.close();
  });

  it('copes with messages split across chunks and several messages per chunk', async () => {
    const f = await fakeQemu(
      (cmd, s) => {
        const ev = JSON.stringify({ event: 'STOP', data: {}, timestamp: { seconds: 1, microseconds: 2 } });
        const rep = JSON.stringify({ return: { text: 'ü€ split' }, id: cmd.id });
        const bytes = Buffer.from(`${ev}\r\n${rep}\r\n`);
        // one chunk ends in the middle of a multi-byte character
        const cut = bytes.indexOf(Buffer.from('€')) + 1;
        s.write(bytes.subarray(0, cut));
        setTimeout(() => s.write(bytes.subarray(cut)), 20);
      },
      {
        greet: (s) => {
          const g = Buffer.from(`${JSON.stringify(GREETING)}\r\n`);
          for (let i = 0; i < g.length; i += 7) s.write(g.subarray(i, i + 7));
        },
      },
    );
    const c = await QmpClient.connect(f.path);
    const events: string[] = [];
    c.on('event', (e) => events.push(e.event));
    expect(await c.execute('x')).toEqual({ text: 'ü€ split' });
    expect(events).toEqual(['STOP']);
    c.close();
  });

  it('delivers typed events and once() waits for a named one', async () => {
    const f = await fakeQemu((cmd, s) => {
      reply(s, cmd);
      send(s, { event: 'RESET', data: { guest: false, reason: 'host-qmp-system-reset' }, timestamp: { seconds: 5, microseconds: 6 } });
      send(s, { event: 'SHUTDOWN', data: { guest: true, reason: 'guest-shutdown' }, timestamp: { seconds: 7, microseconds: 8 } });
    });
    const c = await QmpClient.connect(f.path);
    const seen: unknown[] = [];
    const off = c.on('event', (e) => seen.push(e));
    const shutdown = c.once('SHUTDOWN', { timeoutMs: 2000 });
    await c.execute('system_reset');
    const e = await shutdown;
    expect(e).toEqual({ event: 'SHUTDOWN', data: { guest: true, reason: 'guest-shutdown' }, timestamp: { seconds: 7, microseconds: 8 } });
    expect(seen).toHaveLength(2);
    off();
    await expect(c.once('NEVER', { timeoutMs: 50 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    c.close();
  });

  it('turns QEMU errors into QMP_FAILED with the class in details', async () => {
    const f = await fakeQemu((cmd, s) => send(s, { error: { class: 'CommandNotFound', desc: `The command ${cmd.execute} has not been found` }, id: cmd.id }));
    const c = await QmpClient.connect(f.path);
    const err = await c.execute('bogus').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PolyvisorError);
    expect(err).toMatchObject({ code: 'QMP_FAILED', message: 'bogus: The command bogus has not been found', details: { class: 'CommandNotFound', command: 'bogus' } });
    c.close();
  });

  it('rejects pending commands with QMP_DISCONNECTED when the socket closes, and later ones at once', async () => {
    const f = await fakeQemu((_cmd, s) => setTimeout(() => s.destroy(), 20));
    const c = await QmpClient.connect(f.path);
    const closed = new Promise((r) => c.on('close', r));
    const [a, b] = await Promise.all([codeOf(c.execute('one')), codeOf(c.execute('two'))]);
    expect([a, b]).toEqual(['QMP_DISCONNECTED', 'QMP_DISCONNECTED']);
    expect(await closed).toMatchObject({ byClient: false });
    expect(c.closed).toBe(true);
    const t0 = Date.now();
    expect(await codeOf(c.execute('three'))).toBe('QMP_DISCONNECTED');
    expect(Date.now() - t0).toBeLessThan(50);
  });

  it('times out a command that gets no reply and ignores the late reply', async () => {
    const f = await fakeQemu((cmd, s) => setTimeout(() => reply(s, cmd, 'late'), cmd.execute === 'slow' ? 150 : 0));
    const c = await QmpClient.connect(f.path);
    const err = await c.execute('slow', undefined, { timeoutMs: 50 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TIMEOUT', message: 'slow: no QMP reply within 50 ms' });
    await new Promise((r) => setTimeout(r, 200));
    expect(await c.execute('fast')).toBe('late');
    c.close();
  });

  it('honours an AbortSignal', async () => {
    const f = await fakeQemu(() => undefined);
    const c = await QmpClient.connect(f.path);
    const ac = new AbortController();
    const p = c.execute('hang', undefined, { signal: ac.signal });
    ac.abort();
    expect(await codeOf(p)).toBe('ABORTED');
    expect(await codeOf(c.execute('x', undefined, { signal: AbortSignal.abort() }))).toBe('ABORTED');
    c.close();
  });

  it('gives up when no greeting comes (monitor held by another client)', async () => {
    const f = await fakeQemu(() => undefined, { greet: () => undefined });
    const err = await QmpClient.connect(f.path, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TIMEOUT' });
    expect((err as Error).message).toMatch(/no QMP greeting.*another client/);
  });

  it('reports a missing socket as QMP_DISCONNECTED', async () => {
    expect(await codeOf(QmpClient.connect('/nonexistent/pv/qmp.sock'))).toBe('QMP_DISCONNECTED');
  });
});
