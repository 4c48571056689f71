/** Small readers for JSON bodies: the field named, of the type wanted, or INVALID_BODY. */
import { fail } from '../../shared/index.js';

export function body(b: unknown): Record<string, unknown> {
  if (b === undefined || b === null) return {};
  if (typeof b !== 'object' || Array.isArray(b)) fail('INVALID_BODY', 'the body must be a JSON object');
  return b as Record<string, unknown>;
}

export function str(b: Record<string, unknown>, k: string): string {
  const v = b[k];
  if (typeof v !== 'string' || v.length === 0) fail('INVALID_BODY', `${k} must be a non-empty string`);
  return v;
}

export function optString(b: Record<string, unknown>, k: string): string | undefined {
  return b[k] === undefined ? undefined : str(b, k);
}

export function bool(b: Record<string, unknown>, k: string): boolean | undefined {
  const v = b[k];
  if (v !== undefined && typeof v !== 'boolean') fail('INVALID_BODY', `${k} must be true or false`);
  return v;
}

export function strings(b: Record<string, unknown>, k: string): string[] | undefined {
  const v = b[k];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) fail('INVALID_BODY', `${k} must be a list of strings`);
  return v as string[];
}
