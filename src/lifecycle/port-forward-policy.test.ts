import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { validateSpec } from '../spec/index.js';
import { checkForwardPolicy } from './port-forward-policy.js';

const spec = (forwards: Array<Record<string, unknown>>) => validateSpec({ name: 'web', boot: { kernel: '/k' }, networks: [{ portForwards: forwards }] });
const op = { actor: 'alice', role: 'operator' as const };

function problems(f: () => void): unknown {
  try {
    f();
  } catch (err) {
    if (isPolyvisorError(err) && err.code === 'PORT_FORWARD_NOT_ALLOWED') return err.details;
    throw err;
  }
  throw new Error('expected PORT_FORWARD_NOT_ALLOWED');
}

describe('port forward policy (audit defect 9)', () => {
  it('lets non-admins forward loopback addresses and unprivileged ports', () => {
    expect(() => checkForwardPolicy(spec([{ hostPort: 2222, guestPort: 22 }, { hostAddress: '127.0.0.2', hostPort: 8080, guestPort: 80 }]), op)).not.toThrow();
  });

  it('refuses them other addresses and privileged ports, naming each field', () => {
    expect(problems(() => checkForwardPolicy(spec([{ hostAddress: '0.0.0.0', hostPort: 2222, guestPort: 22 }, { hostPort: 80, guestPort: 80 }]), op))).toEqual([
      { field: 'networks.0.portForwards.0.hostAddress', message: 'tcp 0.0.0.0:2222: only admins may forward from a non-loopback address' },
      { field: 'networks.0.portForwards.1.hostPort', message: 'tcp 127.0.0.1:80: only admins may forward a privileged port (below 1024)' },
    ]);
  });

  it('lets admins and the daemon itself forward anything', () => {
    const s = spec([{ hostAddress: '0.0.0.0', hostPort: 80, guestPort: 80 }]);
    expect(() => checkForwardPolicy(s, { actor: 'local', role: 'admin' })).not.toThrow();
    expect(() => checkForwardPolicy(s, undefined)).not.toThrow();
  });

  it('keeps forwards an edit does not change', () => {
    const before = spec([{ hostAddress: '0.0.0.0', hostPort: 80, guestPort: 80 }]);
    const after = spec([{ hostAddress: '0.0.0.0', hostPort: 80, guestPort: 80 }, { hostPort: 8080, guestPort: 8080 }]);
    expect(() => checkForwardPolicy(after, op, before)).not.toThrow();
    expect(() => checkForwardPolicy(spec([{ hostAddress: '0.0.0.0', hostPort: 81, guestPort: 80 }]), op, before)).toThrow();
  });
});
