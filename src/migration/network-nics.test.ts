import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import { refuseNetworkNics } from './network-nics.js';

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
