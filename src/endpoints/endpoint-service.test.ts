/**
 * EndpointService with an in-memory driver (a stand-in written for this test:
 * the real drivers have their own integration files against libvirtd, vcsim
 * and the Proxmox fake). What is checked here is the service's own logic:
 * nothing registered when the connection fails, credentials never in a view,
 * the capability gate before any call, stale rows from a silent endpoint,
 * events keeping the cache current.
 */
import { describe, expect, it } from 'vitest';
import { memDriver as fullMemDriver, MemSecrets } from '../../test/helpers/mem-driver.js';
import { DriverRegistry, type EndpointDriver } from '../drivers/index.js';
import { isPolyvisorError, silentLogger } from '../shared/index.js';
import { EndpointService } from './endpoint-service.js';

const memDriver = (o: { events?: boolean } = {}) => fullMemDriver({ ...o, full: false, password: 's3cret-pw' });

function service(d: EndpointDriver, secrets = new MemSecrets()) {
  const svc = new EndpointService({ drivers: new DriverRegistry().add(d), secrets, localRows: async () => [], logger: silentLogger, pollMs: 60_000 });
  return { svc, secrets };
}
const sig = () => AbortSignal.timeout(5000);
const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e) => (isPolyvisorError(e) ? e.code : String(e)));

describe('EndpointService', () => {
  it('registers nothing when the connection is refused, and never shows credentials', async () => {
    const d = memDriver();
    const { svc, secrets } = service(d.driver);
    expect(await code(svc.add({ name: 'e1', driver: 'mem', url: 'mem://x', user: 'u', password: 'wrong' }, sig()))).toBe('ENDPOINT_AUTH_FAILED');
    expect(await svc.list()).toEqual([]);
    expect(secrets.m.size).toBe(0);
    const v = await svc.add({ name: 'e1', driver: 'mem', url: 'mem://x', user: 'u', password: 's3cret-pw' }, sig());
    expect(v.auth).toBe('password');
    expect(v.status?.vms).toBe(2);
    expect(JSON.stringify(await svc.list())).not.toContain('s3cret-pw');
    expect(await code(svc.add({ name: 'e1', driver: 'mem', url: 'mem://x' }, sig()))).toBe('ENDPOINT_EXISTS');
    expect(await code(svc.add({ name: 'local', driver: 'mem', url: 'mem://x' }, sig()))).toBe('ENDPOINT_EXISTS');
    expect(await code(svc.add({ name: 'e2', driver: 'nope', url: 'mem://x' }, sig()))).toBe('DRIVER_NOT_FOUND');
    expect(await code(svc.add({ name: 'e2', driver: 'mem', url: 'mem://u:p@x' }, sig()))).toBe('INVALID_ARGUMENT');
  });

  it('refuses a capability the driver lacks before connecting', async () => {
    const d = memDriver();
    const { svc } = service(d.driver);
    await svc.add({ name: 'e1', driver: 'mem', url: 'mem://x', user: 'u', password: 's3cret-pw' }, sig());
    d.calls.length = 0;
    expect(await code(svc.act('e1', 'a', 'pause', sig()))).toBe('CAPABILITY_NOT_SUPPORTED');
    expect(await code(svc.snapshots('e1', 'a', sig()))).toBe('CAPABILITY_NOT_SUPPORTED');
    expect(d.calls).toEqual([]);
    const after = await svc.act('e1', 'a', 'start', sig());
    expect(after.state).toBe('running');
    expect(after.ref).toBe('e1/a');
    expect(after.actions).toContain('power.kill');
  });

  it('keeps the last rows of an endpoint that stops answering, marked stale, and lists the others', async () => {
    const d1 = memDriver();
    const { svc } = service(d1.driver);
    await svc.add({ name: 'e1', driver: 'mem', url: 'mem://x', user: 'u', password: 's3cret-pw' }, sig());
    expect((await svc.inventory()).vms.map((v) => v.ref).sort()).toEqual(['e1/a', 'e1/b']);
    d1.setUp(false);
    const inv = await svc.inventory({ fresh: true });
    expect(inv.stale).toEqual(['e1']);
    expect(inv.errors[0]).toMatchObject({ endpoint: 'e1', code: 'ENDPOINT_UNREACHABLE' });
    expect(inv.vms.length).toBe(2);
  });

  it('serves cached rows without asking the endpoint, and events keep them current', async () => {
    const d = memDriver({ events: true });
    const { svc } = service(d.driver);
    await svc.add({ name: 'e1', driver: 'mem', url: 'mem://x', user: 'u', password: 's3cret-pw' }, sig());
    await svc.inventory();
    d.calls.length = 0;
    d.emit({ vm: 'a', state: 'running' });
    const inv = await svc.inventory();
    expect(d.calls).toEqual([]);
    expect(inv.vms.find((v) => v.name === 'a')!.state).toBe('running');
    d.emit({ vm: 'b', gone: true });
    expect((await svc.inventory()).vms.map((v) => v.name)).toEqual(['a']);
  });

  it('removal forgets the endpoint and its credentials', async () => {
    const d = memDriver();
    const { svc, secrets } = service(d.driver);
    await svc.add({ name: 'e1', driver: 'mem', url: 'mem://x', user: 'u', password: 's3cret-pw' }, sig());
    await svc.remove('e1');
    expect(secrets.m.size).toBe(0);
    expect(await code(svc.show('e1'))).toBe('ENDPOINT_NOT_FOUND');
    expect(await code(svc.vm('e1', 'a', sig()))).toBe('ENDPOINT_NOT_FOUND');
  });
});
