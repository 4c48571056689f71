/**
 * Credentials for libvirt URIs that log in (qemu+tcp/tls with SASL): an auth
 * file (libvirt's client auth.conf format) in a private 0700 directory, mode
 * 0600, named to virsh by LIBVIRT_AUTH_FILE in its environment. Never argv,
 * never logged; removed when the session closes.
 */
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PolyvisorError } from '../../shared/index.js';

export async function writeAuthFile(user: string | undefined, password: string | undefined): Promise<string | null> {
  if (user === undefined && password === undefined) return null;
  // eslint-disable-next-line no-control-regex -- the file is line-based
  if ([user, password].some((v) => v !== undefined && /[\u0000-\u001f]/.test(v))) {
    throw new PolyvisorError('INVALID_ARGUMENT', 'the libvirt user name or password holds a line break or control character');
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pv-libvirt-auth-'));
  const file = path.join(dir, 'auth.conf');
  const lines = ['[credentials-polyvisor]'];
  if (user !== undefined) lines.push(`authname=${user}`, `username=${user}`);
  if (password !== undefined) lines.push(`password=${password}`);
  lines.push('', '[auth-libvirt-default]', 'credentials=polyvisor', '');
  await writeFile(file, lines.join('\n'), { mode: 0o600 });
  return file;
}
