/**
 * What a read-only role must not see in a VM: cloud-init user-data often holds
 * passwords, keys and tokens. Roles without `vm:write` get every
 * `cloudInit.userData` replaced, wherever a VM spec sits in an answer (VM views,
 * operation results, events). Applied to every JSON answer by a hook, and by
 * the event stream, which writes its own frames.
 */
import type { FastifyInstance } from 'fastify';
import type { Role } from '../spec/index.js';
import { roleAllows } from './auth/permissions.js';

export const REDACTED = '[redacted: needs vm:write]';

export function mayReadUserData(role: Role | undefined): boolean {
  return role !== undefined && roleAllows(role, 'vm:write');
}

/** `value` itself when the role may see user-data, else a copy with every cloudInit.userData replaced. */
export function redactForRole<T>(value: T, role: Role | undefined): T {
  return mayReadUserData(role) ? value : (redact(value) as T);
}

function redact(v: unknown): unknown {
  if (Array.isArray(v)) {
    let copy: unknown[] | undefined;
    v.forEach((item, i) => {
      const r = redact(item);
      if (r !== item) (copy ??= [...v])[i] = r;
    });
    return copy ?? v;
  }
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  let copy: Record<string, unknown> | undefined;
  for (const [k, item] of Object.entries(v)) {
    let r = redact(item);
    if (k === 'cloudInit' && r !== null && typeof r === 'object' && typeof (r as { userData?: unknown }).userData === 'string') {
      r = { ...(r as object), userData: REDACTED };
    }
    if (r !== item) (copy ??= { ...(v as Record<string, unknown>) })[k] = r;
  }
  return copy ?? v;
}

/** Redacts every object answer for the caller's role before it is serialized. */
export function installRedaction(app: FastifyInstance): void {
  app.addHook('preSerialization', async (req, _reply, payload) => redactForRole(payload, req.principal?.role));
}
