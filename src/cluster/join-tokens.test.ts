/** Join tokens on an in-memory key-value store: expiry, single use, unknown and malformed tokens, only the hash stored. */
import { describe, expect, it } from 'vitest';
import { memKv } from '../../test/helpers/mem-kv.js';
import { JoinTokens } from './join-tokens.js';
import { clusterKeys } from './keys.js';

describe('join tokens', () => {
  it('admit one host once, then answer CLUSTER_TOKEN_USED naming it', async () => {
    const kv = memKv();
    const tokens = new JoinTokens(kv);
    const { token, expiresAt } = await tokens.create('h1', 60);
    expect(token).toMatch(/^pvj_[A-Za-z0-9_-]{43}$/);
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(50_000);
    const stored = await kv.range(clusterKeys().joinTokens, { prefix: true });
    expect(stored.kvs).toHaveLength(1);
    expect(stored.kvs[0]!.key + stored.kvs[0]!.value).not.toContain(token.slice(4));
    await tokens.consume(token, 'h2');
    await expect(tokens.consume(token, 'h3')).rejects.toMatchObject({ code: 'CLUSTER_TOKEN_USED', message: expect.stringContaining('h2') });
  });

  it('refuse an expired token, an unknown one and a malformed one with distinct codes', async () => {
    const tokens = new JoinTokens(memKv());
    const t0 = Date.now();
    const { token } = await tokens.create('h1', 5, t0);
    await expect(tokens.consume(token, 'h2', t0 + 6_000)).rejects.toMatchObject({ code: 'CLUSTER_TOKEN_EXPIRED' });
    await expect(tokens.consume(`pvj_${'A'.repeat(43)}`, 'h2')).rejects.toMatchObject({ code: 'CLUSTER_TOKEN_UNKNOWN' });
    await expect(tokens.consume('not-a-token', 'h2')).rejects.toMatchObject({ code: 'CLUSTER_TOKEN_UNKNOWN' });
  });

  it('take lifetimes of 1 s to 7 days and prune tokens a day after they expired', async () => {
    const kv = memKv();
    const tokens = new JoinTokens(kv);
    await expect(tokens.create('h1', 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(tokens.create('h1', 8 * 86_400)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const t0 = Date.now();
    await tokens.create('h1', 1, t0);
    await tokens.create('h1', 1, t0 + 2 * 86_400_000);
    expect((await kv.range(clusterKeys().joinTokens, { prefix: true })).kvs).toHaveLength(1);
  });
});
