import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemHostNetworks } from '../../test/helpers/mem-networks.js';
import { stubDriver } from '../drivers/stub-driver.js';
import { isPolyvisorError, silentLogger } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import { openSqliteStore, type SqliteStore } from '../store/sqlite/index.js';
import { NetworkService } from './network-service.js';
import { NicFirewallService } from './nic-firewall.js';
import { VmService } from './vm-service.js';

let dir: string;
let store: SqliteStore;
let host: MemHostNetworks;
let vms: VmService;
let nets: NetworkService;
let fws: NicFirewallService;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-nicfw-'));
  await mkdir(path.join(dir, 'vms'));
  store = openSqliteStore(path.join(dir, 'state.db'));
  host = new MemHostNetworks();
  nets = new NetworkService({ store, vms: () => vms.list(), host, hostRoutes: async () => [], logger: silentLogger });
  vms = new VmService({ store, driver: stubDriver, host: 'h', vmsDir: path.join(dir, 'vms'), logger: silentLogger, nics: nets, readMeminfo: async () => 'MemAvailable: 99999999 kB\n' });
  fws = new NicFirewallService({ vms, networks: nets, logger: silentLogger });
  await nets.create({ name: 'lab', mode: 'nat', subnet: '10.81.0.0/24' });
  await vms.create(validateSpec({ name: 'web', memory: '64Mi', boot: { kernel: '/bin/true' }, networks: [{ network: 'lab' }, { name: 'u' }] }));
});
afterEach(async () => {
  await vms.close();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isPolyvisorError(e) ? e.code : e));

describe('NicFirewallService', () => {
  it('a stopped VM: the spec gets the firewall with its defaults, nothing touches the host; null removes it', async () => {
    expect(await fws.get('web', 'net0')).toEqual({ vm: 'web', nic: 'net0', network: 'lab', firewall: null, live: false });
    const out = await fws.set('web', 'net0', { defaultIn: 'drop', rules: [{ direction: 'in', action: 'accept', protocol: 'tcp', port: 22 }] });
    expect(out).toEqual({
      vm: 'web', nic: 'net0', network: 'lab', live: false,
      firewall: { defaultIn: 'drop', defaultOut: 'accept', rules: [{ direction: 'in', action: 'accept', protocol: 'tcp', port: 22, peer: null }] },
    });
    expect((await vms.get('web')).spec.networks[0]).toMatchObject({ firewall: out.firewall });
    expect(host.calls.filter((c) => c.op === 'attach')).toEqual([]);
    expect((await fws.set('web', 'net0', null)).firewall).toBeNull();
    expect((await vms.get('web')).spec.networks[0]).not.toHaveProperty('firewall');
  });

  it('refuses a missing NIC, a user-mode NIC and a bad rule, changing nothing', async () => {
    expect(await codeOf(fws.set('web', 'net9', null))).toBe('NIC_NOT_FOUND');
    expect(await codeOf(fws.get('web', 'u'))).toBe('NETWORK_INVALID');
    expect(await codeOf(fws.set('nope', 'net0', null))).toBe('VM_NOT_FOUND');
    const bad = await fws.set('web', 'net0', { rules: [{ direction: 'in', action: 'drop', protocol: 'icmp', port: 70000 }] }).catch((e: unknown) => e);
    expect(isPolyvisorError(bad, 'SPEC_INVALID')).toBe(true);
    expect((bad as Error).message).toMatch(/firewall\.rules\.0\.port/);
    expect((await vms.get('web')).spec.networks[0]).not.toHaveProperty('firewall');
  });

  it('reapplyNic re-renders an attached NIC from the spec it is given', async () => {
    const rec = await vms.get('web');
    await nets.attachVm(rec);
    const spec = { ...rec.spec, networks: rec.spec.networks.map((n) => (n.name === 'net0' ? { ...n, firewall: { defaultIn: 'drop' as const, defaultOut: 'accept' as const, rules: [] } } : n)) };
    await nets.reapplyNic({ ...rec, spec }, 'net0');
    expect(host.taps.get('web/net0')?.firewall).toEqual({ defaultIn: 'drop', defaultOut: 'accept', rules: [] });
    expect(await codeOf(nets.reapplyNic(rec, 'u'))).toBe('NIC_NOT_FOUND');
  });
});
