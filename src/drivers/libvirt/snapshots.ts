/**
 * libvirt internal snapshots (qcow2 disks): of a stopped domain they hold the
 * disks; of a running or paused one they hold RAM and disks (QEMU savevm), and
 * reverting to one gives a running VM. A disk-only snapshot of a running
 * domain would be an external overlay, which libvirt 9.0 cannot revert: it is
 * refused with SNAPSHOT_UNSUPPORTED rather than silently taken with RAM.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { ForeignSnapshot, ForeignSnapshots } from '../endpoint.js';
import { checkName, type LibvirtContext } from './context.js';
import { LONG_TIMEOUT_MS } from './virsh.js';
import { parseTable } from './virsh-parse.js';

export function snapshotsPart(ctx: LibvirtContext): ForeignSnapshots {
  return {
    async list(vm, signal) {
      const h = await ctx.locate(checkName('VM', vm), signal);
      const [table, current] = await Promise.all([
        h.virsh.call(['snapshot-list', '--domain', vm, '--parent'], signal, { headers: true }),
        h.virsh.call(['snapshot-current', '--domain', vm, '--name'], signal).then((s) => s.trim(), () => null),
      ]);
      const rows = parseTable(table);
      const out: ForeignSnapshot[] = [];
      for (const r of rows) {
        const name = r['name'] ?? '';
        const info = await h.virsh.call(['snapshot-dumpxml', '--domain', vm, '--snapshotname', name], signal);
        const desc = /<description>([\s\S]*?)<\/description>/.exec(info)?.[1] ?? '';
        out.push({
          name,
          parent: r['parent'] ? r['parent'] : null,
          createdAt: isoTime(r['creation time'] ?? ''),
          description: unescapeXml(desc),
          memory: r['state'] === 'running' || r['state'] === 'paused',
          current: current === name,
        });
      }
      return out;
    },

    async create(vm, snap, signal, onProgress) {
      checkName('snapshot', snap.name);
      const found = await ctx.describe(checkName('VM', vm), signal);
      const live = found.vm.state === 'running' || found.vm.state === 'paused';
      if (snap.memory && !live) {
        throw new PolyvisorError('SNAPSHOT_UNSUPPORTED', `${vm} is ${found.vm.state}: a snapshot with RAM needs a running or paused VM (start it, or take a disk snapshot)`);
      }
      if (!snap.memory && live) {
        throw new PolyvisorError('SNAPSHOT_UNSUPPORTED', `${vm} is ${found.vm.state}: libvirt's snapshots of a running VM hold its RAM (a disk-only one would be an external overlay libvirt 9.0 cannot revert); take it with memory, or stop the VM first`);
      }
      onProgress?.(0, 'snapshot');
      const args = ['snapshot-create-as', '--domain', vm, '--name', snap.name];
      if (snap.description) args.push('--description', snap.description);
      await found.virsh.call(args, signal, { timeoutMs: LONG_TIMEOUT_MS });
      onProgress?.(1);
    },

    async revert(vm, name, signal, onProgress) {
      const h = await ctx.locate(checkName('VM', vm), signal);
      onProgress?.(0, 'revert');
      await h.virsh.call(['snapshot-revert', '--domain', vm, '--snapshotname', checkName('snapshot', name)], signal, { timeoutMs: LONG_TIMEOUT_MS });
      onProgress?.(1);
    },

    async remove(vm, name, signal, onProgress) {
      const h = await ctx.locate(checkName('VM', vm), signal);
      onProgress?.(0, 'delete');
      await h.virsh.call(['snapshot-delete', '--domain', vm, '--snapshotname', checkName('snapshot', name)], signal, { timeoutMs: LONG_TIMEOUT_MS });
      onProgress?.(1);
    },
  };
}

function unescapeXml(s: string): string {
  return s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');
}

/** virsh's "2026-12-04 20:12:02 +0000" → ISO 8601, or null. */
function isoTime(s: string): string | null {
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) ([+-]\d\d)(\d\d)$/.exec(s.trim());
  if (!m) return null;
  const t = new Date(`${m[1]}T${m[2]}${m[3]}:${m[4]}`);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}
