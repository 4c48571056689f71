/** Host-to-host migration wiring: the source reaches a target daemon through the typed client. */
import { MigrationClient } from '../client/index.js';
import type { AbortResult, CommitResult, IncomingReady, IncomingStatus, MigrationPeer, PeerFactory } from '../migration/index.js';

export const migrationPeers: PeerFactory = (t): MigrationPeer => {
  const endpoint = { url: t.url, ...(t.tlsFingerprint ? { fingerprint: t.tlsFingerprint } : {}) };
  const c = new MigrationClient({ endpoint, token: t.token });
  return {
    prepare: (req) => c.prepareIncoming<IncomingReady>(req),
    status: (id) => c.incomingStatus<IncomingStatus>(id),
    commit: (id) => c.commitIncoming<CommitResult>(id),
    abort: (id, vm) => c.abortIncoming<AbortResult>(id, vm),
  };
};

/** Where incoming streams and NBD exports listen: the API's address, or loopback when it listens on every address. */
export function migrationAddress(listenHost: string | undefined): string {
  if (!listenHost || listenHost === '0.0.0.0' || listenHost === 'localhost' || listenHost === '::1') return '127.0.0.1';
  return listenHost;
}
