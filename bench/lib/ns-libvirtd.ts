/**
 * Run inside `unshare --mount --propagation private`: bind-mounts a private
 * copy of libvirt's state, cache, log and config directories over the
 * system ones, then starts `libvirtd -d` there, so a second libvirt daemon
 * (with its own host UUID) can receive migrations from the first on this
 * machine. Usage: ns-libvirtd.ts ROOT. No shell; argv arrays only.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const root = process.argv[2];
if (!root) throw new Error('usage: ns-libvirtd.ts ROOT');
const binds: Array<[string, string]> = [
  ['run', '/run/libvirt'], ['lib', '/var/lib/libvirt'], ['cache', '/var/cache/libvirt'], ['log', '/var/log/libvirt'], ['etc', '/etc/libvirt'],
];
for (const [from, to] of binds) {
  const r = spawnSync('mount', ['--bind', path.join(root, from), to], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`mount --bind ${from} ${to} failed`);
}
const r = spawnSync('libvirtd', ['-d', '--pid-file', path.join(root, 'libvirtd.pid'), '--config', path.join(root, 'etc', 'libvirtd.conf')], { stdio: 'inherit', timeout: 60_000 });
process.exit(r.status ?? 1);
