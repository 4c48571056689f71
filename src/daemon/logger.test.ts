import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { OperationRegistry } from '../lifecycle/index.js';
import { withLogContext } from '../shared/index.js';
import { createLogger } from './logger.js';

function capture(): { lines: () => Record<string, unknown>[]; raw: () => string[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({ write(c: Buffer, _e, cb) { chunks.push(c.toString()); cb(); } });
  const raw = (): string[] => chunks.join('').split('\n').filter(Boolean);
  return { stream, raw, lines: () => raw().map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('daemon logger', () => {
  it('writes the request and operation ids in effect on every line, however deep', async () => {
    const out = capture();
    const log = createLogger('info', out.stream);
    const qemu = log.child({ component: 'qemu' });
    log.info({}, 'outside');
    await withLogContext({ requestId: 'req-1' }, async () => {
      await Promise.resolve();
      qemu.info({ vm: 'a' }, 'inside request');
      await withLogContext({ operationId: 'op-7' }, async () => {
        await new Promise((r) => setTimeout(r, 1));
        qemu.warn({}, 'inside operation');
      });
    });
    const [outside, inReq, inOp] = out.lines();
    expect(outside).not.toHaveProperty('requestId');
    expect(inReq).toMatchObject({ component: 'qemu', requestId: 'req-1', vm: 'a' });
    expect(inReq).not.toHaveProperty('operationId');
    expect(inOp).toMatchObject({ requestId: 'req-1', operationId: 'op-7' });
  });

  it('does not write requestId twice when the logger already binds it (fastify request logs)', () => {
    const out = capture();
    const reqLog = createLogger('info', out.stream).child({ requestId: 'req-2' });
    withLogContext({ requestId: 'req-2', operationId: 'op-1' }, () => reqLog.info({}, 'x'));
    const [line] = out.raw();
    expect(line?.match(/"requestId"/g)).toHaveLength(1);
    expect(JSON.parse(line ?? '{}')).toMatchObject({ requestId: 'req-2', operationId: 'op-1' });
  });

  it('names the operation on the lines its work writes, and the request that started it', async () => {
    const out = capture();
    const log = createLogger('info', out.stream);
    const ops = new OperationRegistry();
    const view = withLogContext({ requestId: 'req-3' }, () =>
      ops.start('start', 'vm1', 'tester', async () => { await Promise.resolve(); log.info({}, 'working'); }));
    await ops.wait(view.id, 5_000);
    expect(out.lines().find((l) => l.msg === 'working')).toMatchObject({ requestId: 'req-3', operationId: view.id });
  });

  it('still redacts secrets', () => {
    const out = capture();
    createLogger('info', out.stream).info({ token: 'pv_secret', headers: { authorization: 'Bearer pv_secret' } }, 'x');
    expect(out.raw().join('')).not.toContain('pv_secret');
  });
});
