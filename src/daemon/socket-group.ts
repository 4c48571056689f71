/**
 * The unix socket shared with a group (issue 23, "every listener
 * authenticated"): like libvirt's `unix_sock_group` and Incus's `incus-admin`,
 * members of `socketGroup` may use the socket, and so act as the admin
 * "local". Without the key the socket stays 0600 (the daemon's user alone).
 */
import { readFileSync } from 'node:fs';
import { chmod, chown, stat } from 'node:fs/promises';
import path from 'node:path';
import { fail, type Logger } from '../shared/index.js';

/** The gid of a group named in /etc/group (or given as a number); a missing group stops the daemon with CONFIG_INVALID. */
export function resolveGroup(group: string, groupFile = '/etc/group'): number {
  if (/^\d+$/.test(group)) return Number(group);
  let text = '';
  try {
    text = readFileSync(groupFile, 'utf8');
  } catch (err) {
    fail('CONFIG_INVALID', `invalid config: socketGroup: cannot read ${groupFile} to find group ${group}`, { cause: err });
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return fail('CONFIG_INVALID', `invalid config: socketGroup: there is no group "${group}" on this host (create it with groupadd ${group}, or name another)`);
}

/**
 * Checks before anything is started that the group exists and that its members
 * could reach the socket: the state directory is 0700, so a shared socket must
 * live in a folder of its own.
 */
export function checkSocketGroup(o: { socket: string; stateDir: string; socketGroup: string }): number {
  const gid = resolveGroup(o.socketGroup);
  if (path.dirname(path.resolve(o.socket)) === path.resolve(o.stateDir)) {
    fail('CONFIG_INVALID', `invalid config: socketGroup: the socket ${o.socket} is inside the state directory, which is private (0700), so group ${o.socketGroup} could not reach it; set socket to a path in a folder of its own, e.g. /run/polyvisor/polyvisord.sock`);
  }
  return gid;
}

/**
 * After listen: the socket root:GROUP 0660 and its folder group-traversable
 * (0710) when the daemon made it private. The socket is born 0600 under the
 * daemon's umask (077), so nobody else connects before this runs.
 */
export async function shareSocket(socket: string, gid: number, logger?: Logger): Promise<void> {
  const dir = path.dirname(socket);
  const st = await stat(dir);
  if (st.uid === process.getuid?.() && (st.mode & 0o077) === 0) {
    await chown(dir, st.uid, gid);
    await chmod(dir, 0o710);
  } else if ((st.mode & 0o011) === 0) {
    logger?.warn({ dir, mode: (st.mode & 0o777).toString(8) }, 'the unix socket\'s folder cannot be entered by the socket group');
  }
  await chown(socket, process.getuid?.() ?? 0, gid);
  await chmod(socket, 0o660);
}
