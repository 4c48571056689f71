import { describe, expect, it } from 'vitest';
import { allowedPeers } from './incoming.js';

describe('allowedPeers (who may connect to a move\'s listeners)', () => {
  it('the request\'s own address; a loopback peer may use either loopback family; none over the unix socket', () => {
    expect(allowedPeers('10.1.2.3')).toEqual(['10.1.2.3']);
    expect(allowedPeers('::ffff:10.1.2.3')).toEqual(['10.1.2.3']);
    expect(allowedPeers('fd00::5')).toEqual(['fd00::5']);
    expect(allowedPeers('127.0.0.1')).toEqual(['127.0.0.1', '::1']);
    expect(allowedPeers('::1')).toEqual(['::1', '127.0.0.1']);
    expect(allowedPeers('127.0.0.9')).toEqual(['127.0.0.9', '127.0.0.1', '::1']);
    expect(allowedPeers(undefined)).toBeUndefined();
  });
});
