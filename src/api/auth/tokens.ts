/**
 * API tokens: 32 random bytes, shown once; the store keeps only their SHA-256.
 * The "pvt_" prefix lets secret scanners recognise a leaked token.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { fail, validateName } from '../../shared/index.js';
import { ROLES, type Role, type TokenCreatedView, type TokenView } from '../../spec/index.js';
import type { TokenRecord, TokenStore } from '../../store/index.js';

export const TOKEN_PREFIX = 'pvt_';
const TOKEN_PATTERN = /^pvt_[A-Za-z0-9_-]{43}$/;
/** lastUsedAt is written at most this often per token (each write is an fsync). */
const TOUCH_EVERY_MS = 60_000;

export const hashToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length === 32 && timingSafeEqual(x, y);
}

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export const tokenView = (r: TokenRecord): TokenView => ({ name: r.name, role: r.role, prefix: r.prefix, createdAt: r.createdAt, lastUsedAt: r.lastUsedAt, expiresAt: r.expiresAt });

/** Longest lifetime a token may be given (ten years). */
const MAX_LIFETIME_MS = 10 * 365 * 86_400_000;

export class TokenService {
  private readonly touched = new Map<string, number>();

  constructor(private readonly store: TokenStore) {}

  /** `expiresAt`: an ISO time in the future (at most ten years ahead); absent: the token never expires. */
  async create(name: string, role: string, expiresAt?: string): Promise<TokenCreatedView> {
    validateName(name, 'token name');
    if (!(ROLES as readonly string[]).includes(role)) fail('INVALID_BODY', `role must be one of ${ROLES.join(', ')}`);
    let expires: string | null = null;
    if (expiresAt !== undefined) {
      const t = Date.parse(expiresAt);
      if (!/^\d{4}-\d{2}-\d{2}T/.test(expiresAt) || Number.isNaN(t)) fail('INVALID_BODY', `expiresAt ${JSON.stringify(expiresAt)} must be an ISO 8601 time like 2027-01-31T00:00:00Z`, { details: [{ field: 'expiresAt', message: 'an ISO 8601 time' }] });
      if (t <= Date.now() || t - Date.now() > MAX_LIFETIME_MS) fail('INVALID_BODY', `expiresAt ${expiresAt} must be in the future and at most ten years ahead`, { details: [{ field: 'expiresAt', message: 'in the future, at most ten years ahead' }] });
      expires = new Date(t).toISOString();
    }
    const token = generateToken();
    const rec = await this.store.createToken({ name, role: role as Role, hash: hashToken(token), prefix: token.slice(0, 8), expiresAt: expires });
    return { ...tokenView(rec), token };
  }

  async list(): Promise<TokenView[]> {
    return (await this.store.listTokens()).map(tokenView);
  }

  async revoke(name: string): Promise<void> {
    validateName(name, 'token name');
    await this.store.deleteToken(name);
    this.touched.delete(name);
  }

  /** A token's record by name (forwarded requests name their caller's token: auth/forwarded-identity.ts). */
  async byName(name: string): Promise<TokenRecord | undefined> {
    return (await this.store.listTokens()).find((t) => t.name === name);
  }

  /** The token's record, or undefined if it is malformed, unknown or revoked (expiry is the caller's to check: expired()). */
  async verify(token: string): Promise<TokenRecord | undefined> {
    if (!TOKEN_PATTERN.test(token)) return undefined;
    const hash = hashToken(token);
    const rec = await this.store.findTokenByHash(hash);
    // The lookup is by the SHA-256 of a random token (an attacker cannot steer
    // its prefix); the stored hash is still compared in constant time.
    if (!rec || !sameHash(rec.hash, hash)) return undefined;
    const now = Date.now();
    if (now - (this.touched.get(rec.name) ?? 0) > TOUCH_EVERY_MS) {
      this.touched.set(rec.name, now);
      await this.store.touchToken(rec.name, new Date(now).toISOString());
    }
    return rec;
  }

  /** True once the token's expiry time has passed. */
  static expired(rec: TokenRecord, now = Date.now()): boolean {
    return rec.expiresAt !== null && Date.parse(rec.expiresAt) <= now;
  }
}
