/**
 * Two libvirt daemons on one machine, for `virsh migrate --live` between
 * them: the system one (ensureLibvirt) and a second one in a private mount
 * namespace (ns-libvirtd.ts) with its own state dirs, socket and host UUID.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { alive, runOk, sleep } from './proc.js';

export interface SecondLibvirtd {
  pid: number;
  uri: string;
}

export async function startSecondLibvirtd(root: string, benchDir: string): Promise<SecondLibvirtd> {
  for (const d of ['run', 'lib', 'cache', 'log', 'etc']) mkdirSync(path.join(root, d), { recursive: true });
  writeFileSync(path.join(root, 'etc', 'libvirtd.conf'), `host_uuid = "${randomUUID()}"\n`);
  writeFileSync(path.join(root, 'etc', 'qemu.conf'), [
    'user = "root"', 'group = "root"', 'stdio_handler = "file"', 'cgroup_controllers = [ ]', '',
  ].join('\n'));
  await runOk('unshare', ['--mount', '--propagation', 'private', '--', process.execPath, '--import', 'tsx', path.join(benchDir, 'lib', 'ns-libvirtd.ts'), root], 60_000);
  const pidFile = path.join(root, 'libvirtd.pid');
  const uri = `qemu+unix:///system?socket=${path.join(root, 'run', 'libvirt-sock')}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      if (alive(pid)) {
        await runOk('virsh', ['-c', uri, 'uri'], 15_000);
        return { pid, uri };
      }
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) throw new Error(`the second libvirtd did not come up (see ${root}/log)`);
    await sleep(200);
  }
}
