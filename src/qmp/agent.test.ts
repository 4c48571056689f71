/**
 * GuestAgentClient against a FAKE qemu-ga: a stand-in on a unix socket that
 * can be silent (agent not running), leave stale replies in the channel, or
 * answer late.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GuestAgentClient } from './agent.js';
import { JsonLineDecoder } from './framing.js';

interface Cmd {
  execute: string;
  arguments?: Record<string, unknown>;
}

const servers: net.Server[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const send = (sock: net.Socket, msg: unknown): boolean => sock.write(`${JSON.stringify(msg)}\n`);

async function fakeAgent(handler: (cmd: Cmd, sock: net.Socket) => void, onConnect?: (sock: net.Socket) => void): Promise<{ path: string; seen: string[] }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-qga-'));
  dirs.push(dir);
  const p = path.join(dir, 'qga.sock');
  const seen: string[] = [];
  const server = net.createServer((sock) => {
    sock.on('error', () => undefined);
    onConnect?.(sock);
    const dec = new JsonLineDecoder();
    sock.on('data', (chunk: Buffer) => {
      for (const d of dec.push(chunk)) {
        if (!d.ok) continue;
        const cmd = d.value as Cmd;
        seen.push(cmd.execute);
        handler(cmd, sock);
      }
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(p, r));
  return { path: p, seen };
}

/** A well-behaved agent: syncs, pings, fails guest-fail, never answers guest-shutdown or guest-hang. */
const agent = (cmd: Cmd, s: net.Socket): void => {
  if (cmd.execute === 'guest-sync') send(s, { return: cmd.arguments?.['id'] });
  else if (cmd.execute === 'guest-ping') send(s, { return: {} });
  else if (cmd.execute === 'guest-fail') send(s, { error: { class: 'GenericError', desc: 'no such thing' } });
};

describe('GuestAgentClient (fake qemu-ga)', () => {
  it('syncs past stale replies, then runs commands', async () => {
    const f = await fakeAgent(agent, (s) => {
      send(s, { return: 424242 }); // a sync reply left over from an earlier client
      s.write('{"return": {"half'); // and half a line
      s.write('"}}\n');
    });
    const c = await GuestAgentClient.connect(f.path, { timeoutMs: 1000 });
    expect(await c.execute('guest-ping')).toEqual({});
    expect(f.seen).toEqual(['guest-sync', 'guest-ping']);
    c.close();
  });

  it('rejects agent errors with QMP_FAILED marked as agent', async () => {
    const f = await fakeAgent(agent);
    const c = await GuestAgentClient.connect(f.path);
    await expect(c.execute('guest-fail')).rejects.toMatchObject({ code: 'QMP_FAILED', message: 'guest-fail: no such thing', details: { agent: true } });
    c.close();
  });

  it('resolves a no-reply command once written', async () => {
    const f = await fakeAgent(agent);
    const c = await GuestAgentClient.connect(f.path);
    await expect(c.execute('guest-shutdown', { mode: 'reboot' }, { noReply: true })).resolves.toBeUndefined();
    c.close();
  });

  it('fails fast with AGENT_UNAVAILABLE when nothing answers or nothing listens', async () => {
    const f = await fakeAgent(() => undefined);
    const t0 = Date.now();
    await expect(GuestAgentClient.connect(f.path, { timeoutMs: 150 })).rejects.toMatchObject({ code: 'AGENT_UNAVAILABLE' });
    expect(Date.now() - t0).toBeLessThan(1000);
    await expect(GuestAgentClient.connect('/nonexistent/pv/qga.sock')).rejects.toMatchObject({ code: 'AGENT_UNAVAILABLE' });
  });

  it('times out a command and re-syncs before the next one, dropping the late reply', async () => {
    const f = await fakeAgent((cmd, s) => {
      if (cmd.execute === 'guest-slow') setTimeout(() => send(s, { return: 'late' }), 100);
      else agent(cmd, s);
    });
    const c = await GuestAgentClient.connect(f.path);
    await expect(c.execute('guest-slow', undefined, { timeoutMs: 30 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    expect(await c.execute('guest-ping')).toEqual({});
    expect(f.seen).toEqual(['guest-sync', 'guest-slow', 'guest-sync', 'guest-ping']);
    c.close();
  });

  it('serializes concurrent calls', async () => {
    const f = await fakeAgent((cmd, s) => {
      if (cmd.execute === 'guest-echo') setTimeout(() => send(s, { return: cmd.arguments?.['n'] }), 10);
      else agent(cmd, s);
    });
    const c = await GuestAgentClient.connect(f.path);
    const r = await Promise.all([1, 2, 3].map((n) => c.execute('guest-echo', { n })));
    expect(r).toEqual([1, 2, 3]);
    c.close();
    await expect(c.execute('guest-ping')).rejects.toMatchObject({ code: 'AGENT_UNAVAILABLE' });
  });
});
