/** The catalogue's hints read well: the commands they name exist, with those flags, and the text is tidy. */
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../shared/index.js';
import { buildProgram } from './program.js';

/** `polyvisor …` spans in a hint, as words. */
function commandsIn(hint: string): string[][] {
  return [...hint.matchAll(/`polyvisor ([^`]+)`/g)].map((m) => m[1]!.split(/\s+/));
}

/** Walks the words down the tree; returns the problem, or null when the command and its flags exist. */
function checkCommand(root: Command, words: string[]): string | null {
  let cmd = root;
  let i = 0;
  for (; i < words.length; i++) {
    const next = cmd.commands.find((c) => c.name() === words[i] || c.aliases().includes(words[i]!));
    if (!next) break;
    cmd = next;
  }
  if (cmd === root) return `no verb ${JSON.stringify(words[0])}`;
  if (cmd.commands.length > 0) return `"${words.slice(0, i).join(' ')}" needs a subcommand`;
  const flags = new Set([...cmd.options, ...root.options].flatMap((o) => [o.long, o.short]).concat('--help'));
  for (const w of words.slice(i)) {
    if (w.startsWith('-') && !flags.has(w)) return `"${words.slice(0, i).join(' ')}" has no flag ${w}`;
    if (!w.startsWith('-') && /^[a-z]/.test(w)) return `"${words.slice(0, i).join(' ')}" has no subcommand ${w}`;
  }
  return null;
}

describe('catalogue hints', () => {
  const program = buildProgram(() => {});

  it('name only commands and flags the CLI has', () => {
    const problems: string[] = [];
    for (const [code, e] of Object.entries(catalogue)) {
      for (const words of commandsIn(e.hint)) {
        const p = checkCommand(program, words);
        if (p) problems.push(`${code}: ${p}`);
      }
    }
    expect(problems).toEqual([]);
    expect(commandsIn(catalogue.VM_NOT_FOUND.hint)).toEqual([['vm', 'list']]);
    expect(checkCommand(program, ['vm', 'frobnicate'])).toMatch(/needs a subcommand/);
    expect(checkCommand(program, ['vm', 'rm', 'NAME', '--forse'])).toMatch(/no flag --forse/);
  });

  it('are sentences without doubled words, dead scripts or unix-socket wording for moves between hosts', () => {
    for (const [code, e] of Object.entries(catalogue)) {
      expect(e.hint, code).toMatch(/^[A-Z`].*[.)]$/);
      expect(e.hint, code).not.toMatch(/\b(\w+) \1\b/);
      expect(e.hint, code).not.toMatch(/npm run demo/); // no such script: scripts/demo.sh
      if (code.startsWith('MIGRATION_') || code.startsWith('CERTIFICATE_')) expect(e.hint, code).not.toMatch(/unix/i);
    }
  });
});
