import { describe, expect, it } from 'vitest';
import { overlayAddressOf } from './overlay-wiring.js';

const etcd = { kind: 'etcd', endpoints: ['http://10.0.0.1:2379'] } as never;
const sqlite = { kind: 'sqlite' } as never;

describe('overlay address of a cluster member', () => {
  it('is the IPv4 address the API listens on, for cluster members only', () => {
    expect(overlayAddressOf({ listen: '10.78.0.11:0', store: etcd })).toBe('10.78.0.11');
    expect(overlayAddressOf({ listen: '10.78.0.11:8006', store: sqlite })).toBeNull();
  });

  it('is none on loopback, the wildcard, or with the listener off (the bridge networks then stay local)', () => {
    for (const listen of ['127.0.0.1:8006', '127.0.0.2:0', '0.0.0.0:8006', 'off', 'localhost:8006', '[::1]:8006']) {
      expect(overlayAddressOf({ listen, store: etcd })).toBeNull();
    }
  });
});
