import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { networkRequest } from './network-commands.js';
import { nicFromFlag } from './network-flag.js';
import { specDocument } from './spec-input.js';

const codeOf = (fn: () => unknown): unknown => {
  try {
    fn();
  } catch (err) {
    return isPolyvisorError(err) ? err.code : err;
  }
  return 'ok';
};

describe('network CLI arguments', () => {
  it('network create: flags become the request; bad mode, range and VLAN text are refused before any call', () => {
    expect(networkRequest('lab', { mode: 'nat' })).toEqual({ name: 'lab', mode: 'nat' });
    expect(networkRequest('lab', { mode: 'isolated', subnet: '10.9.0.0/24', dhcpRange: '10.9.0.128-10.9.0.200', dnsDomain: 'lab.test', vlan: '10' }))
      .toEqual({ name: 'lab', mode: 'isolated', subnet: '10.9.0.0/24', dhcpRange: { start: '10.9.0.128', end: '10.9.0.200' }, dnsDomain: 'lab.test', vlan: 10 });
    expect(codeOf(() => networkRequest('lab', { mode: 'wifi' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => networkRequest('lab', { mode: 'nat', dhcpRange: '10.9.0.128' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => networkRequest('lab', { mode: 'nat', vlan: 'ten' }))).toBe('INVALID_ARGUMENT');
  });

  it('vm create --network NAME[,model=M][,mac=MAC][,ip=IP] adds NICs after any --forward one', async () => {
    expect(nicFromFlag('lab,model=e1000,mac=52:54:00:00:00:09,ip=10.9.0.5', 1)).toEqual({ name: 'net1', network: 'lab', model: 'e1000', mac: '52:54:00:00:00:09', ip: '10.9.0.5' });
    expect(codeOf(() => nicFromFlag('lab,speed=10', 0))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => nicFromFlag(',ip=1.2.3.4', 0))).toBe('INVALID_ARGUMENT');
    const doc = await specDocument('web', { forward: ['8080:80'], network: ['lab', 'dmz,ip=10.1.0.9'] });
    expect(doc['networks']).toEqual([
      { name: 'net0', portForwards: [{ protocol: 'tcp', hostPort: 8080, guestPort: 80 }] },
      { name: 'net1', network: 'lab' },
      { name: 'net2', network: 'dmz', ip: '10.1.0.9' },
    ]);
  });
});
