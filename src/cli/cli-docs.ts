/**
 * The command reference of docs/cli.md, rendered from the CLI's own command tree (commander), so the
 * page cannot lag behind the code: `npx tsx scripts/gen-cli-docs.ts` rewrites the part of the page
 * between the two markers below and keeps the hand-written prose around it; a unit test fails when
 * the page differs from what this renders. Descriptions, defaults and choices are commander's own
 * (the text `--help` shows), so the fix for a wrong line is in the command's source.
 */
import type { Argument, Command, Help, Option } from 'commander';

export const BEGIN_MARKER = '<!-- BEGIN generated command reference: edit src/cli/*-commands.ts, then run `npx tsx scripts/gen-cli-docs.ts` -->';
export const END_MARKER = '<!-- END generated command reference -->';

/** Markdown text: `<`, `>` and `|` escaped outside code spans (a table cell, and no stray HTML tags); `|` inside them too. */
export function mdText(s: string): string {
  return s
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part.replace(/\|/g, '\\|') : part.replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\|/g, '\\|')))
    .join('');
}

const code = (s: string): string => `\`${s.replace(/\|/g, '\\|')}\``;

function visibleSubcommands(cmd: Command, help: Help): Command[] {
  const shown = help.visibleCommands(cmd);
  return cmd.commands.filter((c) => shown.includes(c));
}

function visibleOptions(cmd: Command, help: Help): Option[] {
  return help.visibleOptions(cmd).filter((o) => o.long !== '--help');
}

/** `<name>`, `[name]`, `<name...>`: as commander's usage line writes an argument. */
const argTerm = (a: Argument): string => {
  const n = a.name() + (a.variadic ? '...' : '');
  return a.required ? `<${n}>` : `[${n}]`;
};

function usage(path: string[], cmd: Command, help: Help): string {
  const args = cmd.registeredArguments.map(argTerm);
  const opts = visibleOptions(cmd, help).length > 0 ? ['[options]'] : [];
  return ['polyvisor', ...path, ...opts, ...args].join(' ');
}

function optionTable(cmd: Command, help: Help): string[] {
  const opts = visibleOptions(cmd, help);
  if (opts.length === 0) return [];
  return ['', '| option | what it does |', '| --- | --- |', ...opts.map((o) => `| ${code(o.flags)} | ${mdText(help.optionDescription(o))} |`)];
}

function argumentTable(cmd: Command, help: Help): string[] {
  const args = cmd.registeredArguments.filter((a) => a.description);
  if (args.length === 0) return [];
  return ['', '| argument | what it is |', '| --- | --- |', ...args.map((a) => `| ${code(argTerm(a))} | ${mdText(help.argumentDescription(a))} |`)];
}

/** One command: its heading, usage line, description, aliases, arguments and options; then its subcommands. */
function renderCommand(path: string[], cmd: Command, help: Help, depth: number): string[] {
  const subs = visibleSubcommands(cmd, help);
  const heading = `${'#'.repeat(Math.min(depth, 6))} ${path.join(' ')}`;
  const aliases = cmd.aliases().map((a) => code([...path.slice(0, -1), a].join(' ')));
  const lines = [heading, ''];
  if (subs.length === 0 || visibleOptions(cmd, help).length > 0 || cmd.registeredArguments.length > 0) lines.push(code(usage(path, cmd, help)), '');
  lines.push(mdText(cmd.description()) + (aliases.length ? ` (also ${aliases.join(', ')})` : ''));
  lines.push(...argumentTable(cmd, help), ...optionTable(cmd, help), '');
  for (const sub of subs) lines.push(...renderCommand([...path, sub.name()], sub, help, depth + 1));
  return lines;
}

/** The generated part of docs/cli.md (without the markers). */
export function renderCommandReference(program: Command): string {
  const help = program.createHelp();
  const verbs = visibleSubcommands(program, help);
  const lines = [
    `Every verb of \`polyvisor\`, with its arguments and options (\`polyvisor VERB --help\` prints the same). \`<x>\` is required, \`[x]\` optional, \`x...\` repeatable.`,
    '',
    `Verbs: ${verbs.map((v) => `[${v.name()}](#${v.name().replace(/[^a-z0-9-]/g, '')})`).join(' · ')}`,
    '',
    '### Global options',
    '',
    'Given before the verb (`polyvisor --url URL vm list`); `-h, --help` works everywhere.',
    ...optionTable(program, help),
    '',
  ];
  for (const v of verbs) lines.push(...renderCommand([v.name()], v, help, 3));
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd() + '\n';
}

/**
 * docs/cli.md with its generated part replaced by `renderCommandReference(program)`; the text
 * outside the markers is kept as it is. Throws when a marker is missing.
 */
export function renderCliDocs(program: Command, current: string): string {
  const begin = current.indexOf(BEGIN_MARKER);
  const end = current.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`docs/cli.md needs the lines\n${BEGIN_MARKER}\n${END_MARKER}\naround the generated command reference`);
  return `${current.slice(0, begin + BEGIN_MARKER.length)}\n\n${renderCommandReference(program)}\n${current.slice(end)}`;
}
