import path from 'node:path';
import { fail } from './errors.js';

/** One pattern for every user-given name (VMs, disks, pools, snapshots…). */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/;
const NAME_RULE = '1-63 characters of letters, digits, "-", "_" or ".", starting with a letter or digit, not ending in "."';

export function isValidName(name: unknown): name is string {
  return typeof name === 'string' && NAME_PATTERN.test(name) && !name.endsWith('.') && !name.includes('..');
}

export function validateName(name: unknown, what = 'name'): string {
  if (!isValidName(name)) {
    fail('INVALID_NAME', `${what} ${JSON.stringify(name)} is not valid: ${NAME_RULE}`);
  }
  return name;
}

export { NAME_RULE };

/** Characters allowed in any path the user gives us. */
const SAFE_PATH = /^[A-Za-z0-9_./@+=:,-]+$/;

/** An absolute, normalized path of safe characters with no `..` segment. */
export function validateAbsolutePath(p: unknown, what = 'path'): string {
  if (typeof p !== 'string' || p.length === 0 || p.length > 4096) fail('INVALID_PATH', `${what} must be a non-empty string`);
  if (!path.isAbsolute(p)) fail('INVALID_PATH', `${what} ${JSON.stringify(p)} must be absolute`);
  if (!SAFE_PATH.test(p)) fail('INVALID_PATH', `${what} ${JSON.stringify(p)} has characters outside [A-Za-z0-9_./@+=:,-]`);
  if (p.split('/').includes('..')) fail('INVALID_PATH', `${what} ${JSON.stringify(p)} must not contain ".."`);
  return path.normalize(p);
}

/** Joins `parts` under `root`, refusing anything that escapes it. */
export function safeJoin(root: string, ...parts: string[]): string {
  const full = path.resolve(root, ...parts);
  const rel = path.relative(root, full);
  if (rel.startsWith('..') || path.isAbsolute(rel)) {
    fail('INVALID_PATH', `${parts.join('/')} escapes ${root}`);
  }
  return full;
}
