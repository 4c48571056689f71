import { describe, expect, it } from 'vitest';
import { hexAddr, socketOwner } from './qemu-peer-guard.js';

// Lines in the kernel's format (header, then sl local rem st queues timer retrnsmt uid timeout inode …).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1001 1 0 100 0 0 10 0
   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000 2000000001        0 1002 1 0 20 4 30 10 -1
   2: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 1003 1 0 20 4 30 10 -1`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0000000000000000FFFF00000100007F:C351 0000000000000000FFFF00000100007F:1F90 01 00000000:00000000 00:00000000 00000000   33        0 2001 1 0 20 4 30 10 -1
   1: 00000000000000000000000001000000:C352 00000000000000000000000001000000:1F90 01 00000000:00000000 00:00000000 00000000   44        0 2002 1 0 20 4 30 10 -1`;

describe('the QEMU peer guard', () => {
  it('writes addresses as /proc/net/tcp{,6} does', () => {
    expect(hexAddr('127.0.0.1')).toBe('0100007F');
    expect(hexAddr('10.0.2.2')).toBe('0202000A');
    expect(hexAddr('::ffff:127.0.0.1')).toBe('0000000000000000FFFF00000100007F');
    expect(hexAddr('::1')).toBe('00000000000000000000000001000000');
  });

  it('finds the uid that owns the other end of a loopback connection', () => {
    expect(socketOwner('127.0.0.1', 0xc350, [TCP, TCP6])).toBe(2_000_000_001);
    expect(socketOwner('127.0.0.1', 0x1f90, [TCP, TCP6])).toBe(0);
    expect(socketOwner('::ffff:127.0.0.1', 0xc351, [TCP, TCP6])).toBe(33);
    expect(socketOwner('::1', 0xc352, [TCP, TCP6])).toBe(44);
    expect(socketOwner('127.0.0.1', 1, [TCP, TCP6])).toBeUndefined();
  });
});
