/** docs/benchmarks.md: one section per benchmark between `<!-- NAME:begin -->` / `<!-- NAME:end -->` markers. */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';

const HEADER = `# Benchmarks

Run by hand, never in CI: \`bash bench/run.sh\` installs what it needs, builds
the project and the test guest (\`scripts/setup.sh\`), runs every benchmark and
rewrites its section below. Each section sits between
\`<!-- NAME:begin -->\` / \`<!-- NAME:end -->\` markers; a benchmark replaces
only its own section and keeps the rest of this file.
`;

/** Replaces (or appends) the section `name` in `text`. Pure. */
export function upsertSection(text: string, name: string, body: string): string {
  const begin = `<!-- ${name}:begin -->`;
  const end = `<!-- ${name}:end -->`;
  const block = `${begin}\n${body.trim()}\n${end}`;
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i >= 0 && j > i) return text.slice(0, i) + block + text.slice(j + end.length);
  const base = text.trim() === '' ? HEADER : text.replace(/\s*$/, '\n');
  return `${base}\n${block}\n`;
}

/** Writes the section into `file` (temp name + rename), creating the file with a header if needed. */
export function writeSection(file: string, name: string, body: string): void {
  const old = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, upsertSection(old, name, body));
  renameSync(tmp, file);
}

/** A markdown table. */
export function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
