/**
 * Write forwarding in a cluster (docs/cluster.md "Writes go to the owner"):
 * a write to a VM another host owns is sent on to that host's API, as Proxmox
 * VE's pveproxy and Incus do, and the owner's answer (status and body) goes
 * back to the caller. The forwarding host authenticates to the owner with the
 * cluster's peer credential and names the original caller in a header; the
 * owner takes that caller's role from the shared token store, not from the
 * header (auth/forwarded-identity.ts). One hop only: a forwarded request
 * carries FORWARDED_BY, and an owner that no longer owns the VM refuses it
 * instead of forwarding again. The transport is the daemon's (it may use the
 * client); api/ sees it through OwnerForwarder.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { fail } from '../shared/index.js';

/** Set by the forwarding host: its name. Its presence marks the request as forwarded once already. */
export const FORWARDED_BY_HEADER = 'x-polyvisor-forwarded-by';
/** Set by the forwarding host: who called it — `token:NAME`, or `local` for its unix socket. */
export const ON_BEHALF_OF_HEADER = 'x-polyvisor-on-behalf-of';
/** Set on the answer the caller gets: the host that carried the request out. */
export const HANDLED_BY_HEADER = 'x-polyvisor-handled-by';

/** Where the owner's API is (its published apiUrl and TLS fingerprint). */
export interface OwnerAddress {
  host: string;
  url: string;
  fingerprint?: string;
}

export interface ForwardedRequest {
  method: string;
  /** Path and query, as received. */
  path: string;
  /** The request body as JSON text, if any. */
  body?: string;
  /** This host's name (FORWARDED_BY_HEADER). */
  forwardedBy: string;
  /** The original caller (ON_BEHALF_OF_HEADER). */
  onBehalfOf: string;
}

export interface ForwardedAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

export interface OwnerForwarder {
  /** Off: writes to another host's VM answer VM_ON_OTHER_HOST as before (config `forwardWrites: false`). */
  readonly enabled: boolean;
  /** The owner's API address, or undefined when the host is not live or publishes none. */
  locate(host: string): Promise<OwnerAddress | undefined>;
  /** Sends the request; throws HOST_UNREACHABLE when the owner does not answer. */
  send(to: OwnerAddress, req: ForwardedRequest): Promise<ForwardedAnswer>;
}

/** The caller as the owner will know it: a token's name, or `local` (this host's unix socket). */
export function onBehalfOf(req: FastifyRequest): string {
  const p = req.principal;
  if (!p || p.via === 'unix') return 'local';
  return `token:${p.actor}`;
}

function bodyText(req: FastifyRequest): string | undefined {
  const b = req.body;
  if (b === undefined || b === null) return undefined;
  if (typeof b === 'string') return b;
  if (Buffer.isBuffer(b)) return b.toString('utf8');
  return JSON.stringify(b);
}

/** Forwards the request to the VM's owner and sends its answer; refuses as VM_ON_OTHER_HOST when it may not. */
export async function forwardToOwner(req: FastifyRequest, reply: FastifyReply, o: { forwarder: OwnerForwarder | undefined; self: string; vm: string; owner: string }): Promise<FastifyReply> {
  const by = req.headers[FORWARDED_BY_HEADER];
  if (by !== undefined) {
    fail('VM_ON_OTHER_HOST', `VM ${o.vm} runs on host ${o.owner}, not on ${o.self}, and this request was already forwarded once (by ${String(by)}): a second hop is refused`, {
      hint: `the VM changed hosts while the request was under way: send it again (any member forwards it to ${o.owner})`,
    });
  }
  if (!o.forwarder?.enabled) {
    fail('VM_ON_OTHER_HOST', `VM ${o.vm} runs on host ${o.owner}, not on ${o.self}: only its host's daemon may change it, and this host does not forward writes (forwardWrites: false)`, {
      hint: `send the request to ${o.owner}, whose URL \`polyvisor host list\` shows (as a remote: \`polyvisor remote add ${o.owner} URL --token-file FILE\`), or move the VM here first`,
    });
  }
  return relayTo(req, reply, { forwarder: o.forwarder, self: o.self, host: o.owner, what: `VM ${o.vm} runs on host ${o.owner}` });
}

/**
 * Sends the request (or `body` instead of its own) to `host`'s API as the
 * caller and answers with that host's answer. `what` opens the error when
 * the host cannot be located.
 */
export async function relayTo(req: FastifyRequest, reply: FastifyReply, o: { forwarder: OwnerForwarder; self: string; host: string; what: string; body?: unknown }): Promise<FastifyReply> {
  const to = await o.forwarder.locate(o.host);
  if (!to) fail('HOST_UNREACHABLE', `${o.what}, which is not live in the cluster or publishes no API URL: the request could not be forwarded`);
  const body = o.body !== undefined ? JSON.stringify(o.body) : bodyText(req);
  const answer = await o.forwarder.send(to, {
    method: req.method, path: req.url, ...(body !== undefined ? { body } : {}), forwardedBy: o.self, onBehalfOf: onBehalfOf(req),
  });
  req.forwardedTo = o.host;
  return reply.status(answer.status).header('content-type', answer.contentType || 'application/json').header(HANDLED_BY_HEADER, o.host).send(answer.body);
}
