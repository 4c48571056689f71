/**
 * A stack plan as text, in Terraform's spirit: one line per object with a
 * sign (+ create, ~ update, ~! update with restart, -/+ replace, - delete,
 * > start), the fields that cause it, and a summary line. Shared by the
 * CLI and the web UI. Pure.
 */
import type { StackAction, StackChangeView, StackPlanView } from './stack-views.js';

const SIGN: Record<StackAction, string> = {
  create: '+', update: '~', 'update-restart': '~!', replace: '-/+', delete: '-', start: '>', stop: '<', noop: ' ',
};
const WORD: Record<StackAction, string> = {
  create: 'create', update: 'update in place', 'update-restart': 'update with restart', replace: 'replace', delete: 'delete', start: 'start', stop: 'stop', noop: 'unchanged',
};

function changeLines(c: StackChangeView): string[] {
  const head = `${SIGN[c.action].padEnd(3)} ${c.kind} ${c.name}${c.member !== c.name && c.member !== '' ? ` (member ${c.member})` : ''}: ${WORD[c.action]}`;
  const fields = c.fields.map((f) => `      ${f.field}: ${f.from ?? '(none)'} → ${f.to ?? '(none)'}`);
  return [head, ...(c.action === 'noop' ? [] : [`      why: ${c.reason}`]), ...fields];
}

export function planText(p: StackPlanView, o: { showUnchanged?: boolean } = {}): string {
  const shown = p.changes.filter((c) => o.showUnchanged || c.action !== 'noop');
  const s = p.summary;
  const summary = `Plan for stack ${p.stack}: ${s.create} to create, ${s.update} to update in place, ${s['update-restart']} to update with restart, ` +
    `${s.replace} to replace, ${s.delete} to delete, ${s.start} to start, ${s.noop} unchanged.`;
  if (shown.length === 0) return `${summary}\nNothing to do: the stack is as its file says.`;
  return [...shown.flatMap(changeLines), '', summary].join('\n');
}

/** True when applying the plan would change nothing. */
export function planIsEmpty(p: StackPlanView): boolean {
  return p.changes.every((c) => c.action === 'noop');
}
