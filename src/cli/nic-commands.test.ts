import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { nicAddBody, nicTable } from './nic-commands.js';

describe('vm nic commands', () => {
  it('turn --network NAME[,model=M][,mac=MAC][,ip=IP] and --name into the add request', () => {
    expect(nicAddBody('lab', undefined)).toEqual({ network: 'lab' });
    expect(nicAddBody('lab,model=e1000,mac=52:54:00:00:00:01,ip=10.0.0.5', 'net3')).toEqual({ network: 'lab', model: 'e1000', mac: '52:54:00:00:00:01', ip: '10.0.0.5', name: 'net3' });
    let err: unknown;
    try { nicAddBody('lab,speed=10', undefined); } catch (e) { err = e; }
    expect(isPolyvisorError(err, 'INVALID_ARGUMENT')).toBe(true);
  });

  it('list addresses with their source, or the reservation when none was seen', () => {
    const t = nicTable([
      { name: 'net0', type: 'network', network: 'lab', mac: '52:54:00:00:00:01', model: 'virtio', linkUp: false, tap: 'pvt-a', reservedIp: '10.0.0.5', addresses: [{ address: '10.0.0.5', source: 'lease' }, { address: '10.0.0.5', source: 'agent' }] },
      { name: 'net1', type: 'network', network: 'lab', mac: '52:54:00:00:00:02', model: 'virtio', linkUp: true, tap: null, reservedIp: '10.0.0.6', addresses: [] },
    ]);
    expect(t).toMatch(/net0\s+lab\s+virtio\s+52:54:00:00:00:01\s+down\s+pvt-a\s+10\.0\.0\.5 \(lease\), 10\.0\.0\.5 \(agent\)/);
    expect(t).toMatch(/net1\s+.*up\s+-\s+10\.0\.0\.6 \(reserved\)/);
  });
});
