/** polyvisor snapshot create|list|revert|rm VM …: the snapshot tree of a VM. */
import type { Command } from 'commander';
import { SnapshotClient, type SnapshotEntry } from '../client/index.js';
import { connectionFrom, type GlobalOptions } from './context.js';
import { formatBytes } from './format.js';

/** Renders the tree: children indented under their parent, `*` marks the current node. */
export function renderSnapshotTree(nodes: SnapshotEntry[]): string {
  const kids = new Map<string | null, SnapshotEntry[]>();
  for (const n of nodes) kids.set(n.parent, [...(kids.get(n.parent) ?? []), n]);
  const lines: string[] = [];
  const walk = (parent: string | null, prefix: string): void => {
    const list = kids.get(parent) ?? [];
    list.forEach((n, i) => {
      const last = i === list.length - 1;
      const size = n.vmStateBytes > 0 ? ` ram ${formatBytes(n.vmStateBytes)}` : '';
      const ext = n.type === 'external' ? `, external ${formatBytes(n.fileBytes)}` : '';
      const gone = n.deleting ? ' (delete unfinished)' : '';
      const frozen = n.frozenFilesystems !== undefined ? `, ${n.frozenFilesystems} fs frozen` : '';
      lines.push(`${prefix}${last ? '└─ ' : '├─ '}${n.name}${n.current ? ' *' : ''}  [${n.kind}, ${n.consistency}${frozen}${size}${ext}]${gone} ${n.createdAt}${n.description ? `  ${n.description}` : ''}`);
      walk(n.name, prefix + (last ? '   ' : '│  '));
    });
  };
  walk(null, '');
  return lines.length ? lines.join('\n') + '\n' : 'no snapshots\n';
}

/** `application-consistent: 2 filesystems frozen`, `crash-consistent: <why>`, or the bare label when no freeze was tried. */
export function consistencyText(s: Pick<SnapshotEntry, 'consistency' | 'frozenFilesystems' | 'freezeNote'>): string {
  if (s.frozenFilesystems === undefined) return s.consistency;
  const n = `${s.frozenFilesystems} filesystem${s.frozenFilesystems === 1 ? '' : 's'} frozen`;
  return `${s.consistency}: ${n}${s.freezeNote ? ` (${s.freezeNote})` : ''}`;
}

export function registerSnapshotCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = () => {
    const c = connectionFrom(g());
    return new SnapshotClient({ endpoint: c.endpoint, ...(c.token ? { token: c.token } : {}) });
  };
  const print = (v: unknown, text: () => string) => out(g().json ? JSON.stringify(v, null, 2) + '\n' : text());

  const snap = program.command('snapshot').description('snapshots of a VM, kept as a tree');
  snap.command('create <vm> <name>')
    .description('take a snapshot (with RAM when the VM runs; --disk-only for disks alone)')
    .option('-d, --description <text>', 'what this snapshot is for')
    .option('--disk-only', 'disks only (the guest filesystems are frozen when its agent answers)')
    .option('--external', 'disks only, as overlay files beside the disks (implies --disk-only)')
    .action(async (vm: string, name: string, o: { description?: string; diskOnly?: boolean; external?: boolean }) => {
      const s = await client().create(vm, {
        name, ...(o.description ? { description: o.description } : {}), ...(o.diskOnly || o.external ? { ram: false } : {}), ...(o.external ? { type: 'external' as const } : {}),
      });
      print(s, () => `snapshot ${vm}/${s.name}: created (${s.type === 'external' ? 'external ' : ''}${s.kind}, ${consistencyText(s)}, depth ${s.depth})\n`);
    });
  snap.command('list <vm>').alias('ls').description('the snapshot tree (* marks the node the VM runs from)').action(async (vm: string) => {
    const l = await client().list(vm);
    print(l, () => renderSnapshotTree(l.snapshots));
  });
  snap.command('revert <vm> <name>').description('go back to a snapshot (a disk-only snapshot of a running VM restarts it)').action(async (vm: string, name: string) => {
    const r = await client().revert(vm, name);
    print(r, () => `snapshot ${vm}/${name}: reverted${r.ram ? ' with RAM' : ' (disks)'}${r.restarted ? ', VM restarted' : ''}; VM is ${r.state}`
      + `${r.bitmapsReset.length ? `; dirty bitmaps ${r.bitmapsReset.join(', ')} reset, the next backup is full` : ''}\n`);
  });
  snap.command('rm <vm> <name>').alias('delete').description('delete a snapshot; its children move up to its parent').action(async (vm: string, name: string) => {
    await client().remove(vm, name);
    out(`snapshot ${vm}/${name}: deleted\n`);
  });
}
