/**
 * Where operators may move VMs (audit defect 7): the peers an admin registered
 * on this daemon, each a target daemon's URL, its peer-role token and its
 * pinned TLS fingerprint. Like Proxmox VE's cluster members: an operator
 * names a peer, never a URL, so a stolen operator token cannot ship a VM's
 * disks and memory to a server of its own, and the migrate route is no SSRF.
 *
 * Each peer is one entry of the secrets store (`peer.NAME`, the whole record
 * encrypted: the token is a credential); lists show names, URLs and
 * fingerprints, never tokens.
 */
import { fail, validateName } from '../shared/index.js';
import type { PeerView } from '../spec/index.js';
import { isTarget } from './options.js';
import type { MigrationTargetRef } from './peer.js';

/** The part of the secrets store the registry uses. */
export interface PeerSecrets {
  list(): Promise<Array<{ name: string; createdAt: string; updatedAt: string }>>;
  set(name: string, value: string): Promise<unknown>;
  reveal(name: string): Promise<string>;
  remove(name: string): Promise<void>;
  has(name: string): boolean;
}

const PREFIX = 'peer.';

export class PeerRegistry {
  constructor(private readonly secrets: PeerSecrets) {}

  /** Registers (or replaces) peer `name`. */
  async add(name: string, target: MigrationTargetRef): Promise<PeerView> {
    validateName(name, 'peer name');
    const t = { url: target.url, token: target.token, ...(target.tlsFingerprint ? { tlsFingerprint: target.tlsFingerprint } : {}) };
    if (!isTarget(t)) fail('INVALID_BODY', 'a peer needs url "http(s)://HOST:PORT", a token of the target\'s peer role (8-512 characters, no spaces) and, for https, tlsFingerprint (SHA-256, 64 hex digits)');
    await this.secrets.set(PREFIX + name, JSON.stringify(t));
    return (await this.list()).find((p) => p.name === name)!;
  }

  /** Sorted by name; never tokens. */
  async list(): Promise<PeerView[]> {
    const out: PeerView[] = [];
    for (const s of await this.secrets.list()) {
      if (!s.name.startsWith(PREFIX)) continue;
      const t = await this.target(s.name.slice(PREFIX.length));
      out.push({ name: s.name.slice(PREFIX.length), url: t.url, tlsFingerprint: t.tlsFingerprint ?? null, createdAt: s.createdAt, updatedAt: s.updatedAt });
    }
    return out;
  }

  async remove(name: string): Promise<void> {
    validateName(name, 'peer name');
    if (!this.secrets.has(PREFIX + name)) fail('PEER_NOT_FOUND', `no peer named ${name}`);
    await this.secrets.remove(PREFIX + name);
  }

  /** The URL, token and fingerprint of peer `name`; PEER_NOT_FOUND when absent. */
  async target(name: string): Promise<MigrationTargetRef> {
    validateName(name, 'peer name');
    if (!this.secrets.has(PREFIX + name)) fail('PEER_NOT_FOUND', `no peer named ${name}`);
    return JSON.parse(await this.secrets.reveal(PREFIX + name)) as MigrationTargetRef;
  }
}
