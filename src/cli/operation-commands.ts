/** `polyvisor operation list|show|wait|cancel` and `polyvisor events`. */
import type { Command } from 'commander';
import type { EventView, OperationView } from '../spec/index.js';
import { platformFrom, type GlobalOptions } from './context.js';
import { table } from './format.js';

const opLine = (o: OperationView): string =>
  `${o.id} ${o.kind} ${o.vm ?? '-'}: ${o.status}${o.status === 'running' ? ` ${Math.round(o.progress * 100)}%` : ''}${o.error ? ` (${o.error.code}: ${o.error.message})` : ''}\n`;

export function eventLine(e: EventView): string {
  const t = e.at.slice(11, 23);
  if (e.type === 'vm.state') return `${t} ${e.vm}: ${e.from} -> ${e.to} (${e.reason})\n`;
  if (e.type === 'vm.removed') return `${t} ${e.vm}: removed\n`;
  if (e.type === 'vm.snapshots' || e.type === 'vm.backups') return `${t} ${e.vm}: ${e.type.slice(3, -1)} ${e.name ? `${e.name} ` : ''}${e.action}\n`;
  const o = e.operation;
  return `${t} ${o.vm ?? '-'}: operation ${o.id} ${o.kind} ${o.status} ${Math.round(o.progress * 100)}%\n`;
}

export function registerOperationCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const json = (o: { json?: boolean }): boolean => Boolean(o.json || g().json);
  const op = program.command('operation').alias('op').description('long operations (started with --async)');

  op.command('list')
    .alias('ls')
    .option('--vm <name>', 'only this VM')
    .option('--json', 'print JSON')
    .description('list operations, newest first')
    .action(async (o: { vm?: string; json?: boolean }) => {
      const list = await platformFrom(g()).listOperations(o.vm ? { vm: o.vm } : {});
      out(json(o) ? JSON.stringify(list, null, 2) + '\n' : table(['ID', 'KIND', 'VM', 'STATUS', 'PROGRESS', 'ACTOR', 'ERROR'], list.map((x) => [x.id, x.kind, x.vm ?? '-', x.status, `${Math.round(x.progress * 100)}%`, x.actor, x.error?.code ?? ''])));
    });

  for (const [cmd, what] of [['show', 'show an operation'], ['wait', 'wait for an operation to finish'], ['cancel', 'cancel a running operation (its work rolls back)']] as const) {
    const c = op.command(`${cmd} <id>`).description(what).option('--json', 'print JSON');
    if (cmd === 'wait') c.option('-t, --timeout <seconds>', 'give up waiting after this (default 300)', (v) => Number(v));
    c.action(async (id: string, o: { json?: boolean; timeout?: number }) => {
      const p = platformFrom(g());
      const v = cmd === 'show' ? await p.getOperation(id) : cmd === 'wait' ? await p.waitOperation(id, o.timeout ?? 300) : await p.cancelOperation(id);
      out(json(o) ? JSON.stringify(v, null, 2) + '\n' : opLine(v));
    });
  }

  program.command('events')
    .description('follow the event stream: VM state changes and operation progress (Ctrl-C ends)')
    .option('--vm <name>', 'only this VM')
    .option('--json', 'one JSON object per line')
    .action(async (o: { vm?: string; json?: boolean }) => {
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      await platformFrom(g()).followEvents((e) => out(json(o) ? JSON.stringify(e) + '\n' : eventLine(e)), { ...(o.vm ? { vm: o.vm } : {}), signal: stop.signal });
    });
}
