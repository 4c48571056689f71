/**
 * `polyvisor up` / `down` and `polyvisor stack plan|apply|status|drift|graph|
 * down|destroy|list`: declarative stacks (issue 21; docs/stacks.md). The
 * CLI reads the stack file (and its `from:` files and --var-files); the
 * daemon plans and applies.
 */
import type { Command } from 'commander';
import { StackClient, type PlatformClient } from '../client/index.js';
import { fail } from '../shared/index.js';
import { planIsEmpty, planText, type OperationView, type StackApplyView, type StackPlanView, type StackRequest } from '../spec/index.js';
import { endpointFrom, platformFrom, tokenFrom, type GlobalOptions } from './context.js';
import { followOperation } from './follow-operation.js';
import { table } from './format.js';
import { DEFAULT_STACK_FILE, readStackRequest, stackNameOf, type StackInputFlags } from './stack-input.js';

interface ApplyFlags extends StackInputFlags { yes?: boolean; json?: boolean; rollbackOnFailure?: boolean }

const collect = (v: string, prev: string[] = []): string[] => [...prev, v];

function stepsTable(r: StackApplyView): string {
  return table(['KIND', 'NAME', 'ACTION', 'RESULT', 'DETAIL'], r.steps.map((s) => [s.kind, s.name, s.action, s.result, s.error ? `${s.error.code}: ${s.error.message}` : `${(s.ms / 1000).toFixed(1)}s`]));
}

/** Asks on the terminal; without one, refuses (STACK_CONFIRM) so scripts say --yes. */
async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) fail('STACK_CONFIRM', `${question.replace(/\?$/, '')}: stdin is not a terminal, so pass --yes`);
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

async function follow(platform: PlatformClient, op: OperationView, out: (s: string) => void, json: boolean): Promise<void> {
  let last: OperationView = op;
  const text = (cur: OperationView): string => {
    last = cur;
    const d = cur.detail as StackApplyView | undefined;
    const now = d?.steps.filter((s) => s.result === 'running').map((s) => s.name) ?? [];
    return `${op.kind}${now.length ? `: ${now.join(', ')}` : ''}`;
  };
  try {
    last = await followOperation(platform, op, { text, failCode: 'STACK_APPLY_FAILED', progress: !json });
  } finally {
    const report = (last.result ?? last.detail) as StackApplyView | undefined;
    if (report?.steps) out(json ? `${JSON.stringify(report, null, 2)}\n` : stepsTable(report));
  }
}

export function registerStackCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = (): StackClient => {
    const token = tokenFrom(g());
    return new StackClient({ endpoint: endpointFrom(g()), ...(token ? { token } : {}) });
  };
  const json = (o: { json?: boolean }): boolean => Boolean(o.json || g().json);
  const withInput = (c: Command): Command => c
    .option('--var <name=value>', 'a value for a variable of the stack (repeatable)', collect)
    .option('--var-file <file>', 'a YAML/JSON mapping of variable values (repeatable; --var wins)', collect)
    .option('--json', 'JSON output');

  /** Plan, show, confirm, apply: `up` and `stack apply`. */
  const up = async (file: string | undefined, o: ApplyFlags): Promise<void> => {
    const req: StackRequest = await readStackRequest(file ?? DEFAULT_STACK_FILE, o);
    const plan: StackPlanView = await client().plan(req);
    if (json(o)) out(`${JSON.stringify(plan, null, 2)}\n`);
    else out(`${planText(plan)}\n`);
    if (planIsEmpty(plan)) return;
    if (!o.yes && !(await confirm(`Apply this plan to stack ${plan.stack}?`))) {
      out('Not applied.\n');
      return;
    }
    await follow(platformFrom(g()), await client().apply(o.rollbackOnFailure ? { ...req, rollbackOnFailure: true } : req), out, json(o));
  };

  withInput(program.command('up [file]'))
    .description(`plan a stack file (default ${DEFAULT_STACK_FILE}), then apply it after a prompt: VMs, networks and volumes in dependency order`)
    .option('-y, --yes', 'apply without asking (needed when stdin is not a terminal)')
    .option('--rollback-on-failure', 'if a member fails, remove what this apply created (not what existed before), dependants first')
    .action(up);

  const down = async (stack: string | undefined, o: { json?: boolean }): Promise<void> => {
    await follow(platformFrom(g()), await client().down(await stackNameOf(stack)), out, json(o));
  };
  program.command('down [stack]')
    .description(`stop every VM of a stack (named, or by its file; default ${DEFAULT_STACK_FILE}), dependants first`)
    .option('--json', 'JSON output')
    .action(down);

  const st = program.command('stack').description('declarative stacks: many VMs, networks and volumes described in one file (docs/stacks.md)');

  withInput(st.command('plan [file]'))
    .description('what applying the file would do: create, update in place, update with restart, replace, delete, start — with the fields that cause it')
    .option('--all', 'list unchanged objects too')
    .action(async (file: string | undefined, o: StackInputFlags & { json?: boolean; all?: boolean }) => {
      const plan = await client().plan(await readStackRequest(file ?? DEFAULT_STACK_FILE, o));
      out(json(o) ? `${JSON.stringify(plan, null, 2)}\n` : `${planText(plan, { showUnchanged: Boolean(o.all) })}\n`);
    });

  withInput(st.command('apply [file]'))
    .description('the same as `polyvisor up`: plan, ask, apply')
    .option('-y, --yes', 'apply without asking (needed when stdin is not a terminal)')
    .option('--rollback-on-failure', 'if a member fails, remove what this apply created (not what existed before), dependants first')
    .action(up);

  withInput(st.command('graph [file]'))
    .description('the dependency order of a stack file, as numbered levels or Graphviz DOT')
    .option('--dot', 'Graphviz DOT (pipe to `dot -Tsvg`)')
    .action(async (file: string | undefined, o: StackInputFlags & { json?: boolean; dot?: boolean }) => {
      const gr = await client().graph(await readStackRequest(file ?? DEFAULT_STACK_FILE, o));
      out(json(o) ? `${JSON.stringify(gr, null, 2)}\n` : `${o.dot ? gr.dot : gr.text}\n`);
    });

  st.command('list').description('the stacks applied on this host').option('--json', 'JSON output')
    .action(async (o: { json?: boolean }) => {
      const l = await client().list();
      out(json(o) ? `${JSON.stringify(l, null, 2)}\n` : table(['STACK', 'VMS', 'NETWORKS', 'VOLUMES', 'APPLIED'], l.map((s) => [s.stack, String(s.vms), String(s.networks), String(s.volumes), s.appliedAt])));
    });

  st.command('status [stack]').description('every member of a stack with its state, address and readiness').option('--json', 'JSON output')
    .action(async (stack: string | undefined, o: { json?: boolean }) => {
      const s = await client().status(await stackNameOf(stack));
      out(json(o) ? `${JSON.stringify(s, null, 2)}\n` : table(['KIND', 'MEMBER', 'NAME', 'STATE', 'ADDRESS', 'READINESS'], s.members.map((m) => [m.kind, m.member, m.name, m.state, m.address ?? '-', m.readiness])));
    });

  st.command('drift [stack]').description('what changed out of band since the last apply: stopped, resized or deleted by hand, a network removed').option('--json', 'JSON output')
    .action(async (stack: string | undefined, o: { json?: boolean }) => {
      const d = await client().drift(await stackNameOf(stack));
      if (json(o)) return out(`${JSON.stringify(d, null, 2)}\n`);
      if (d.drift.length === 0) return out(`Stack ${d.stack}: no drift.\n`);
      out(table(['KIND', 'NAME', 'DRIFT', 'FIELDS'], d.drift.map((c) => [c.kind, c.name, c.reason, c.fields.map((f) => `${f.field}: ${f.to ?? '-'} → ${f.from ?? '-'}`).join('; ') || '-'])));
    });

  st.command('down [stack]').description('the same as `polyvisor down`: stop every VM of the stack, dependants first').option('--json', 'JSON output').action(down);

  st.command('destroy [stack]')
    .description('remove every VM, volume and network the stack owns, and nothing else (asks first)')
    .option('-y, --yes', 'destroy without asking (needed when stdin is not a terminal)')
    .option('--json', 'JSON output')
    .action(async (stack: string | undefined, o: { yes?: boolean; json?: boolean }) => {
      const name = await stackNameOf(stack);
      if (!o.yes && !(await confirm(`Destroy stack ${name} (its VMs, disks, volumes and networks)?`))) {
        out('Not destroyed.\n');
        return;
      }
      await follow(platformFrom(g()), await client().destroy(name), out, json(o));
    });
}
