/**
 * Write forwarding on a cluster host (api/owner-forward.ts, docs/cluster.md):
 * the owner's address is the API URL (and TLS fingerprint) it publishes under
 * its lease; the request goes there with the cluster's peer credential from
 * this host's secrets store, the original caller named in a header. Nothing
 * from the caller's own Authorization header is sent on.
 */
import http from 'node:http';
import {
  FORWARDED_BY_HEADER, ON_BEHALF_OF_HEADER,
  type ForwardedAnswer, type ForwardedIdentityOptions, type ForwardedRequest, type OwnerAddress, type OwnerForwarder, type TokenService,
} from '../api/index.js';
import { requestTarget } from '../client/index.js';
import { PEER_TOKEN_SECRET } from '../cluster/index.js';
import type { SecretStore } from '../secrets/index.js';
import { fail, PolyvisorError } from '../shared/index.js';
import type { ClusterHost } from './cluster-wiring.js';
import { CLUSTER_PEER_TOKEN_NAME } from './cluster-membership-wiring.js';

/** Longest a forwarded request may take (a stop waits for the guest up to its timeout). */
const FORWARD_TIMEOUT_MS = 15 * 60_000;
/** Largest answer relayed (VM routes answer small JSON documents). */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export function sendForwarded(to: OwnerAddress, req: ForwardedRequest, token: string, timeoutMs = FORWARD_TIMEOUT_MS): Promise<ForwardedAnswer> {
  const where = `host ${to.host} at ${to.url}`;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      accept: 'application/json', authorization: `Bearer ${token}`,
      [FORWARDED_BY_HEADER]: req.forwardedBy, [ON_BEHALF_OF_HEADER]: req.onBehalfOf,
    };
    if (req.body !== undefined) headers['content-type'] = 'application/json';
    const ep = { url: to.url, ...(to.fingerprint ? { fingerprint: to.fingerprint } : {}) };
    const r = http.request({ ...requestTarget(ep, req.path), method: req.method, headers, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) return void res.destroy(new PolyvisorError('HOST_UNREACHABLE', `${where} sent an answer larger than ${MAX_ANSWER_BYTES} bytes to a forwarded ${req.method} ${req.path}`));
        chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 502, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) }));
      res.on('error', (err) => reject(unreachable(where, req, err)));
    });
    r.on('timeout', () => r.destroy(new PolyvisorError('HOST_UNREACHABLE', `${where} did not answer a forwarded ${req.method} ${req.path} within ${Math.round(timeoutMs / 1000)} s; it may still carry it out`)));
    r.on('error', (err) => reject(unreachable(where, req, err)));
    r.end(req.body);
  });
}

function unreachable(where: string, req: ForwardedRequest, err: Error & { code?: string }): PolyvisorError {
  if (err instanceof PolyvisorError) return err;
  return new PolyvisorError('HOST_UNREACHABLE', `VM's owner ${where} could not be reached for a forwarded ${req.method} ${req.path} (${err.code ?? err.message})`, { cause: err });
}

export function clusterForwarding(o: { cluster: ClusterHost; secrets: SecretStore; tokens: TokenService; enabled: boolean }): { forwarder: OwnerForwarder; identity: ForwardedIdentityOptions } {
  const forwarder: OwnerForwarder = {
    enabled: o.enabled,
    locate: async (host) => {
      const h = (await o.cluster.directory.live()).find((x) => x.name === host);
      const url = h?.facts['apiUrl'];
      if (!h || !url) return undefined;
      return { host, url, ...(h.facts['apiFingerprint'] ? { fingerprint: h.facts['apiFingerprint'] } : {}) };
    },
    send: async (to, req) => {
      if (!o.secrets.has(PEER_TOKEN_SECRET)) fail('HOST_UNREACHABLE', `this host has no cluster peer credential (secret ${PEER_TOKEN_SECRET}, made by cluster init and handed over by cluster join), so it cannot forward to host ${to.host}`);
      return sendForwarded(to, req, await o.secrets.reveal(PEER_TOKEN_SECRET));
    },
  };
  return { forwarder, identity: { peerTokenName: CLUSTER_PEER_TOKEN_NAME, tokenByName: (n) => o.tokens.byName(n) } };
}
