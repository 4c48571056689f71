/** polyvisor doctor: the daemon's health checks as a table (or --json); exit 1 when anything is critical. */
import type { Command } from 'commander';
import { OpsClient, type DoctorReportView } from '../client/index.js';
import { PolyvisorError } from '../shared/index.js';
import { connectionFrom, type GlobalOptions } from './context.js';

const MARK = { ok: 'ok  ', info: 'info', warning: 'WARN', critical: 'CRIT' } as const;

export function renderDoctor(r: DoctorReportView, all: boolean): string {
  const lines = [`polyvisor doctor on ${r.host}: ${r.status}`];
  for (const f of r.findings) {
    if (!all && f.severity === 'ok') continue;
    lines.push(`[${MARK[f.severity]}] ${f.check.padEnd(14)} ${f.message}`);
    if (f.fix) lines.push(`       fix: ${f.fix.command}`);
  }
  const problems = r.findings.filter((f) => f.severity === 'warning' || f.severity === 'critical').length;
  lines.push(problems ? `${problems} problem(s)` : 'no problems found');
  return lines.join('\n') + '\n';
}

export function registerDoctorCommands(program: Command, out: (s: string) => void): void {
  program
    .command('doctor')
    .description('check QEMU, the accelerator, pools, the store, VM processes and files, clocks and known QEMU bugs')
    .option('--json', 'print the report as JSON')
    .option('-a, --all', 'also list the checks that passed')
    .action(async (o: { json?: boolean; all?: boolean }) => {
      const g = program.opts<GlobalOptions>();
      const report = await new OpsClient(connectionFrom(g)).doctor();
      out(o.json || g.json ? JSON.stringify(report, null, 2) + '\n' : renderDoctor(report, o.all === true));
      if (report.status === 'critical') throw new PolyvisorError('DOCTOR_CRITICAL', 'doctor found critical problems');
    });
}
