import { describe, expect, it } from 'vitest';
import { checkReady } from './peer-reply.js';

const target = { url: 'http://127.0.0.2:8006', token: 'tok-123456' };
const live = { migrationId: 'mig-1', live: true, exports: ['data'] };
const ok = { migrationId: 'mig-1', host: 'host-b', uri: 'tcp:127.0.0.2:40001', pid: 42, nbd: [{ disk: 'data', host: '127.0.0.2', port: 40002, exportName: 'data' }] };

describe('checkReady (the target daemon answer is untrusted)', () => {
  it('rebuilds the stream URI and the NBD addresses from the target URL and integer ports', () => {
    const r = checkReady({ ...ok, uri: 'tcp:10.9.9.9:40001', nbd: [{ ...ok.nbd[0], host: '10.9.9.9' }] }, target, live);
    expect(r).toEqual({ migrationId: 'mig-1', host: 'host-b', uri: 'tcp:127.0.0.2:40001', pid: 42, nbd: [{ disk: 'data', host: '127.0.0.2', port: 40002, exportName: 'data' }] });
    expect(checkReady({ ...ok, nbd: [] }, { ...target, url: 'https://[::1]:8006' }, { ...live, exports: [] }).uri).toBe('tcp:[::1]:40001');
  });

  it.each([
    ['an exec: URI (QEMU would run it through a shell)', { ...ok, uri: 'exec:touch /tmp/pwned' }, /stream address that is not tcp:ADDRESS:PORT/],
    ['a tcp URI with shell words', { ...ok, uri: 'tcp:127.0.0.2:1 ; id' }, /stream address/],
    ['a unix URI', { ...ok, uri: 'unix:/run/x.sock' }, /stream address/],
    ['a port out of range', { ...ok, uri: 'tcp:127.0.0.2:70000' }, /stream address/],
    ['another migration id', { ...ok, migrationId: 'mig-2' }, /another migration id/],
    ['an export it was not asked for', { ...ok, nbd: [{ ...ok.nbd[0], exportName: 'root', disk: 'root' }] }, /export the move did not ask for/],
    ['a missing export', { ...ok, nbd: [] }, /where the move needs data/],
    ['an NBD port that is not a number', { ...ok, nbd: [{ ...ok.nbd[0], port: '40002' }] }, /invalid port/],
    ['a host name with spaces', { ...ok, host: 'a b' }, /invalid host name/],
    ['a string', 'tcp:127.0.0.2:1', /not an object/],
  ])('refuses %s', (_what, reply, message) => {
    expect(() => checkReady(reply, target, live)).toThrow(message);
    try {
      checkReady(reply, target, live);
    } catch (e) {
      expect(e).toMatchObject({ code: 'MIGRATION_FAILED', details: { side: 'target' } });
    }
  });
});
