/**
 * A TCP listener that lets through only the peer addresses a move was set up
 * for (audit defect 4: "accept only the source's address"). QEMU 7.2's
 * migration and NBD listeners take any peer that connects first, and have no
 * address filter; so QEMU listens on a unix socket in the VM's directory and
 * this gate listens on the TCP address the source was given: a connection
 * from an allowed address is joined to the unix socket byte for byte (TLS
 * stays end to end between the two QEMUs), any other is closed before a byte
 * is read and counted. Closing the gate stops new connections; `destroy`
 * also cuts the ones in flight.
 */
import net from 'node:net';
import type { Logger } from './logger.js';

export interface AddressGate {
  /** Connections closed because their peer address was not allowed. */
  readonly refused: number;
  /** Stops accepting; connections already joined run to their end. */
  close(): Promise<void>;
  /** Stops accepting and cuts every joined connection. */
  destroy(): Promise<void>;
}

/** "::ffff:127.0.0.1" → "127.0.0.1" (an IPv4 peer on a dual-stack socket). */
export function plainAddress(a: string): string {
  return a.startsWith('::ffff:') && net.isIPv4(a.slice(7)) ? a.slice(7) : a;
}

export async function openAddressGate(o: {
  listen: { host: string; port: number };
  /** Peer addresses let through (compared after plainAddress). */
  allow: readonly string[];
  /** The unix socket behind the gate (QEMU's listener). */
  target: string;
  logger: Logger;
  /** What the gate guards, for the logs ("migration stream", "NBD exports"). */
  what: string;
}): Promise<AddressGate> {
  const allow = new Set(o.allow.map(plainAddress));
  const live = new Set<net.Socket>();
  let refused = 0;
  // Half-open on both sides: when one end finishes sending, pipe() ends the other side only after flushing what the
  // gate still holds (a migration stream's last device state, written by a source that has already closed while
  // the target QEMU reads slowly), and the other direction goes on until it ends too.
  const server = net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, (client) => {
    const peer = plainAddress(client.remoteAddress ?? '');
    if (!allow.has(peer)) {
      refused++;
      o.logger.warn({ peer, what: o.what, allowed: [...allow] }, 'refused a connection from an address the move was not set up for');
      client.destroy();
      return;
    }
    const inner = net.connect({ path: o.target, allowHalfOpen: true });
    live.add(client).add(inner);
    // An error on either side (a reset, the unix socket gone) cuts both at once; a clean close of one side does
    // not: destroying the other then would drop the bytes it has not yet delivered.
    const cut = (): void => {
      client.destroy();
      inner.destroy();
    };
    client.on('error', cut).on('close', () => live.delete(client));
    inner.on('error', cut).on('close', () => live.delete(inner));
    inner.on('connect', () => {
      client.pipe(inner);
      inner.pipe(client);
      client.resume();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.listen.port, o.listen.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // net.Server.close() calls back only once every joined connection ended: do not wait for that here.
  const close = (): Promise<void> => {
    if (server.listening) server.close();
    return Promise.resolve();
  };
  return {
    get refused() { return refused; },
    close,
    async destroy() {
      for (const s of live) s.destroy();
      live.clear();
      await close();
    },
  };
}
