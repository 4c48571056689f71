import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { specJsonSchema } from './json-schema.js';
import { validateSpec } from './parse.js';

const problems = (fn: () => unknown): Array<{ field: string; message: string }> => {
  try {
    fn();
  } catch (err) {
    if (isPolyvisorError(err, 'SPEC_INVALID')) return err.details as Array<{ field: string; message: string }>;
    throw err;
  }
  throw new Error('expected SPEC_INVALID');
};
const spec = (networks: unknown[]) => ({ name: 'vm', boot: { kernel: '/k' }, networks });

describe('VM NICs on virtual networks', () => {
  it('keeps old user-mode NICs as they were (user is the default)', () => {
    expect(validateSpec(spec([{}])).networks[0]).toEqual({ name: 'net0', type: 'user', model: 'virtio', portForwards: [] });
    expect(validateSpec(spec([{ type: 'user', mac: '52:54:00:00:00:01' }])).networks[0]!.type).toBe('user');
  });

  it('reads `network: NAME` alone as type network, with its defaults', () => {
    const n = validateSpec(spec([{ network: 'lab', ip: '10.0.0.5', firewall: { rules: [{ direction: 'in', action: 'drop', protocol: 'tcp', port: 22 }] } }])).networks[0]!;
    expect(n).toMatchObject({ type: 'network', network: 'lab', ip: '10.0.0.5', antiSpoof: true, linkUp: true });
    expect(n.firewall).toEqual({ defaultIn: 'accept', defaultOut: 'accept', rules: [{ direction: 'in', action: 'drop', protocol: 'tcp', port: 22, peer: null }] });
  });

  it('refuses network fields on user NICs, a network NIC without a network, bad names, ports and addresses', () => {
    expect(problems(() => validateSpec(spec([{ type: 'network' }])))[0]!.field).toBe('networks.0.network');
    expect(problems(() => validateSpec(spec([{ type: 'user', network: 'lab' }])))[0]!.field).toBe('networks.0.network');
    expect(problems(() => validateSpec(spec([{ ip: '10.0.0.5' }])))[0]!.field).toBe('networks.0.ip');
    expect(problems(() => validateSpec(spec([{ network: 'Lab_1' }])))[0]!.field).toBe('networks.0.network');
    expect(problems(() => validateSpec(spec([{ network: 'abcdefghijklm' }])))[0]!.field).toBe('networks.0.network');
    expect(problems(() => validateSpec(spec([{ network: 'lab', ip: '10.0.0.300' }])))[0]!.field).toBe('networks.0.ip');
    const fw = (rule: unknown) => problems(() => validateSpec(spec([{ network: 'lab', firewall: { rules: [rule] } }])))[0]!.field;
    expect(fw({ direction: 'in', action: 'drop', protocol: 'tcp', port: 70000 })).toMatch(/^networks\.0\.firewall\.rules\.0\.port/);
    expect(fw({ direction: 'in', action: 'drop', protocol: 'icmp', port: 22 })).toBe('networks.0.firewall.rules.0.port');
    expect(fw({ direction: 'in', action: 'drop', peer: '10.0.0.0/33' })).toMatch(/^networks\.0\.firewall\.rules\.0\.peer/);
  });

  it('exports the new fields in the JSON Schema', () => {
    const text = JSON.stringify(specJsonSchema());
    for (const k of ['"network"', '"antiSpoof"', '"linkUp"', '"firewall"', '"bandwidth"']) expect(text).toContain(k);
  });
});
