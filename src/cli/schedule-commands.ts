/** `polyvisor schedule explain`: where the scheduler would place a VM, and why (issue 19; docs/scheduler.md). */
import type { Command } from 'commander';
import { HostClient, type ScheduleExplainView } from '../client/index.js';
import { PolyvisorError } from '../shared/index.js';
import { connectionFrom, type GlobalOptions } from './context.js';
import { formatBytes, table } from './format.js';
import { readSpecDocument } from './spec-input.js';

const num = (n: number): string => String(+n.toFixed(2));

/** One row per host (passed or the refusing filter and why, scores), then the choice. */
export function explainText(x: ScheduleExplainView): string {
  const r = x.request;
  const head = `VM ${x.vm} needs ${r.cpus} CPUs, ${formatBytes(r.memoryBytes)} memory, ${formatBytes(r.diskBytes)} disk`
    + `${r.pool ? ` in pool ${r.pool}${r.restricted ? ' (only)' : ''}` : ''}; policy ${x.policy.mode}, overcommit cpu ${x.policy.overcommit.cpu} memory ${x.policy.overcommit.memory} disk ${x.policy.overcommit.disk}\n`;
  const rows = x.hosts.map((h) => [
    `${h.host}${h.chosen ? ' *' : ''}`, h.state,
    `${num(h.allocated.cpus)}/${num(h.capacity.cpus)}`,
    `${formatBytes(h.allocated.memoryBytes)}/${formatBytes(h.capacity.memoryBytes)}`,
    h.score ? num(h.score.capacity) : '-', h.score ? num(h.score.affinity) : '-', h.score ? num(h.score.total) : '-',
    h.refusedBy ? `refused by ${h.refusedBy.filter}: ${h.refusedBy.reason}` : 'passed',
  ]);
  const foot = x.chosen ? `chosen: ${x.chosen}\n` : 'no host fits\n';
  return head + table(['HOST', 'STATE', 'CPU', 'MEMORY', 'CAPACITY', 'AFFINITY', 'SCORE', 'FILTERS'], rows) + foot;
}

export function registerScheduleCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const schedule = program.command('schedule').description('the cluster scheduler: where VMs would go and why (docs/scheduler.md)');
  schedule.command('explain [vm]')
    .description('every host with the filter that refused it (and the host\'s numbers) or its scores, and the host the scheduler picks, for an existing VM or a spec (--spec)')
    .option('--spec <file>', 'a VM spec (YAML or JSON, "-" for stdin) not yet created, instead of a VM name')
    .option('--json', 'print JSON')
    .action(async (vm: string | undefined, o: { spec?: string; json?: boolean }) => {
      if ((vm === undefined) === (o.spec === undefined)) throw new PolyvisorError('INVALID_ARGUMENT', 'name a VM, or give a spec with --spec FILE (one of the two)');
      const c = new HostClient(connectionFrom(g()));
      const x = o.spec !== undefined ? await c.explainSpec(await readSpecDocument(o.spec)) : await c.explain(vm!);
      out(o.json || g().json ? JSON.stringify(x, null, 2) + '\n' : explainText(x));
    });
}
