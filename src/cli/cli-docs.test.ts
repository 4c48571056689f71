import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { BEGIN_MARKER, END_MARKER, mdText, renderCliDocs, renderCommandReference } from './cli-docs.js';
import { buildProgram } from './program.js';

const DOC = path.resolve(import.meta.dirname, '..', '..', 'docs', 'cli.md');

describe('docs/cli.md', () => {
  it('is in step with the command tree (regenerate: npx tsx scripts/gen-cli-docs.ts)', () => {
    const doc = readFileSync(DOC, 'utf8');
    expect(doc).toBe(renderCliDocs(buildProgram(() => {}), doc));
  });

  it('documents every verb and every subcommand of the tree, with its flags', () => {
    const ref = renderCommandReference(buildProgram(() => {}));
    for (const heading of ['### vm', '#### vm migrate', '#### vm migrate-cancel', '### pool', '#### volume create', '### image', '#### disk attach', '#### disk export', '### remote', '#### remote add', '##### backup schedule add']) {
      expect(ref.split('\n'), heading).toContain(heading);
    }
    expect(ref).toContain('| `--to <remote>` |');
    expect(ref).toContain('| `--from-image <image>` |');
    expect(ref).not.toContain('__complete'); // hidden
    expect(ref).not.toMatch(/^#+ help$/m); // commander's implicit help command
  });

  it('keeps the prose around the markers and replaces only what is between them', () => {
    const p = new Command('polyvisor').option('--json', 'print JSON');
    p.command('thing <name>').description('does a | b to <name>').option('-n, --count <n>', 'how many', '3').alias('t');
    const doc = `# Intro\n\nhand-written\n\n${BEGIN_MARKER}\nstale text\n${END_MARKER}\n\n## After\n`;
    const out = renderCliDocs(p, doc);
    expect(out.startsWith(`# Intro\n\nhand-written\n\n${BEGIN_MARKER}\n`)).toBe(true);
    expect(out.endsWith(`${END_MARKER}\n\n## After\n`)).toBe(true);
    expect(out).not.toContain('stale text');
    expect(out).toContain('`polyvisor thing [options] <name>`');
    expect(out).toContain('does a \\| b to &lt;name&gt; (also `t`)');
    expect(out).toContain('| `-n, --count <n>` | how many (default: "3") |');
    expect(renderCliDocs(p, out)).toBe(out); // stable
    expect(() => renderCliDocs(p, '# no markers\n')).toThrow(/needs the lines/);
  });

  it('escapes markdown outside code spans only', () => {
    expect(mdText('a <b> | `c <d> | e`')).toBe('a &lt;b&gt; \\| `c <d> \\| e`');
  });
});
