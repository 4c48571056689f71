import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import { pinNicAddresses, refuseMissingNetworks, refuseNetworkNics } from './network-nics.js';

const rec = (state: 'running' | 'stopped', networks: unknown[]) => ({ name: 'web', state, spec: validateSpec({ name: 'web', boot: { kernel: '/k' }, networks }) });

describe('live moves of VMs with NICs on virtual networks', () => {
  it('are refused before anything starts, naming each NIC and its network', () => {
    let err: unknown;
    try {
      refuseNetworkNics(rec('running', [{ name: 'u' }, { network: 'lab' }, { name: 'net1', network: 'dmz' }]));
    } catch (e) {
      err = e;
    }
    expect(isPolyvisorError(err, 'MIGRATION_INCOMPATIBLE')).toBe(true);
    expect((err as Error).message).toContain('net0 on lab, net1 on dmz');
  });

  it('leave user-mode NICs and stopped VMs alone', () => {
    expect(() => refuseNetworkNics(rec('running', [{ name: 'u' }]))).not.toThrow();
    expect(() => refuseNetworkNics(rec('stopped', [{ network: 'lab' }]))).not.toThrow();
  });
});

describe('host-to-host moves of VMs with NICs on virtual networks', () => {
  const spec = validateSpec({ name: 'web', boot: { kernel: '/k' }, networks: [{ name: 'u' }, { network: 'lab' }, { name: 'net1', network: 'dmz', ip: '10.0.1.9' }] });

  it('send the spec with each NIC\'s current address pinned, fixed addresses and user NICs as they were', () => {
    const out = pinNicAddresses(spec, [
      { vm: 'web', nic: 'net0', network: 'lab', mac: '52:54:00:00:00:01', ip: '10.0.0.7', tap: 'pvt-a' },
      { vm: 'web', nic: 'net1', network: 'dmz', mac: '52:54:00:00:00:02', ip: '10.0.1.5', tap: 'pvt-b' },
    ]);
    expect(out.networks.map((n) => n.ip)).toEqual([undefined, '10.0.0.7', '10.0.1.9']);
    expect(spec.networks[1]!.ip).toBeUndefined();
  });

  it('are refused on a target without a network, naming it and how to make it', () => {
    let err: unknown;
    try {
      refuseMissingNetworks('web', spec, 'host-b', ['dmz'], true);
    } catch (e) {
      err = e;
    }
    expect(isPolyvisorError(err, 'MIGRATION_INCOMPATIBLE')).toBe(true);
    expect((err as Error).message).toMatch(/has no network dmz \(used by NIC net1\)/);
    expect((err as { hint: string }).hint).toContain('polyvisor network create dmz --mode nat');
    expect(() => refuseMissingNetworks('web', spec, 'host-b', [], true)).not.toThrow();
    expect(() => refuseMissingNetworks('web', spec, 'host-b', [], false)).toThrow(/cannot build virtual networks/);
  });
});
