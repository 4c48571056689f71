import { describe, expect, it } from 'vitest';
import type { PeerRegistry } from '../migration/index.js';
import type { PolyvisorError } from '../shared/index.js';
import { resolveMigrationTarget } from './migration-target.js';

const peers = { target: async (name: string) => ({ url: `http://${name}.example:8006`, token: 'pvt_x'.repeat(3) }) } as unknown as PeerRegistry;
const code = async (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e as PolyvisorError).code);
const raw = { target: { url: 'http://10.0.0.9:8006', token: 'pvt_yyyyyyyy' } };

describe('where a move may go (audit defect 7)', () => {
  it('a raw target is an admin\'s alone', async () => {
    expect(await code(resolveMigrationTarget(raw, 'operator', peers))).toBe('MIGRATION_TARGET_NOT_ALLOWED');
    expect(await code(resolveMigrationTarget(raw, undefined, peers))).toBe('MIGRATION_TARGET_NOT_ALLOWED');
    expect(await resolveMigrationTarget(raw, 'admin', peers)).toEqual(raw);
  });

  it('a registered peer is resolved to its URL and token for any role that may migrate', async () => {
    expect(await resolveMigrationTarget({ peer: 'b', downtimeMs: 100 }, 'operator', peers)).toEqual({ downtimeMs: 100, target: { url: 'http://b.example:8006', token: 'pvt_xpvt_xpvt_x' } });
  });

  it('both at once, or a peer where none are kept, are refused; a move on this host passes untouched', async () => {
    expect(await code(resolveMigrationTarget({ ...raw, peer: 'b' }, 'admin', peers))).toBe('INVALID_BODY');
    expect(await code(resolveMigrationTarget({ peer: 'b' }, 'admin', undefined))).toBe('PEER_NOT_FOUND');
    expect(await resolveMigrationTarget({ downtimeMs: 50 }, 'operator', peers)).toEqual({ downtimeMs: 50 });
  });

  it('a cluster host is resolved by the cluster for any role that may migrate; one target kind at a time; none on a single host', async () => {
    const asked: string[] = [];
    const hosts = async (vm: string, host: string) => { asked.push(`${vm}@${host}`); return { url: `https://${host}:8006`, token: 'pvt_cluster-peer' }; };
    expect(await resolveMigrationTarget({ host: 'h2', tls: true }, 'operator', peers, 'web', hosts)).toEqual({ tls: true, target: { url: 'https://h2:8006', token: 'pvt_cluster-peer' } });
    expect(asked).toEqual(['web@h2']);
    expect(await code(resolveMigrationTarget({ host: 'h2', peer: 'b' }, 'admin', peers, 'web', hosts))).toBe('INVALID_BODY');
    expect(await code(resolveMigrationTarget({ host: 'h2' }, 'admin', peers, 'web', undefined))).toBe('NOT_A_CLUSTER');
  });
});
