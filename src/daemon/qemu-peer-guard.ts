/**
 * Audit defect 9, for QEMUs running as their own users (qemuUser: per-vm): a
 * guest on user-mode networking reaches the host's loopback through 10.0.2.2,
 * and what connects there is its QEMU process (libslirp opens the socket on
 * the guest's behalf). The kernel knows the uid that owns each TCP socket
 * (/proc/net/tcp, tcp6), so a loopback connection to the daemon's listener
 * whose other end belongs to a uid of the QEMU range is closed before a byte
 * is read: no guest reaches the API, whatever token it holds. Connections
 * from anywhere else are untouched; the lookup runs only for loopback peers.
 */
import { readFileSync } from 'node:fs';
import type { Server, Socket } from 'node:net';
import type { Logger } from '../shared/index.js';

/** The uid owning the TCP socket whose local end is `addr:port` (the peer of ours), from /proc/net/tcp and tcp6. */
export function socketOwner(addr: string, port: number, tables: readonly string[] = readTables()): number | undefined {
  const want = `${hexAddr(addr)}:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const table of tables) {
    for (const line of table.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[1] === want) return Number(f[7]);
    }
  }
  return undefined;
}

function readTables(): string[] {
  return ['/proc/net/tcp', '/proc/net/tcp6'].map((f) => {
    try {
      return readFileSync(f, 'utf8');
    } catch {
      return '';
    }
  });
}

/** An IPv4 (or IPv4-mapped IPv6) or IPv6 address as /proc/net/tcp{,6} writes it: each 32-bit word in host (little-endian) order. */
export function hexAddr(addr: string): string {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.(\d+)$/i.exec(addr);
  const word = (bytes: number[]) => bytes.reverse().map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
  if (v4) {
    const b = v4.slice(1).map(Number);
    return addr.includes(':') ? `0000000000000000FFFF0000${word(b)}` : word(b);
  }
  // Full IPv6: expand ::, then four words.
  const [head, tail] = addr.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => parseInt(g || '0', 16));
  const out: string[] = [];
  for (let i = 0; i < 8; i += 2) out.push(word([groups[i]! >> 8, groups[i]! & 255, groups[i + 1]! >> 8, groups[i + 1]! & 255]));
  return out.join('');
}

const isLoopbackPeer = (a: string | undefined): boolean => a !== undefined && (/^(::ffff:)?127\./i.test(a) || a === '::1');

/** Closes loopback connections to `server` from sockets owned by a uid in [min, max]. */
export function refuseQemuPeers(server: Server, range: { min: number; max: number }, logger: Logger): void {
  server.on('connection', (sock: Socket) => {
    if (!isLoopbackPeer(sock.remoteAddress) || sock.remotePort === undefined) return;
    const uid = socketOwner(sock.remoteAddress!, sock.remotePort);
    if (uid !== undefined && uid >= range.min && uid <= range.max) {
      logger.warn({ uid, peer: `${sock.remoteAddress}:${sock.remotePort}` }, 'refused a loopback connection from a VM\'s QEMU (a guest on user-mode networking)');
      sock.destroy();
    }
  });
}
