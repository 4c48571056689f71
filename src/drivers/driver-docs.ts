/** docs/drivers.md: the capability matrix of every driver, rendered from the registry's rows (a test keeps the file in step). */
import { CAPABILITIES, CAPABILITY_TEXT } from './capabilities.js';
import type { DriverRow } from './registry.js';

const cell = (r: DriverRow, c: (typeof CAPABILITIES)[number]): string => {
  const x = r.capabilities[c];
  const mark = x.supported ? 'yes' : 'no';
  return x.note ? `${mark}¹` : mark;
};

export function renderDriverDocs(rows: readonly DriverRow[]): string {
  const notes: string[] = [];
  for (const r of rows) {
    for (const c of CAPABILITIES) {
      const n = r.capabilities[c].note;
      if (n) notes.push(`- **${r.name}** \`${c}\`: ${n}`);
    }
  }
  return [
    '# Drivers and what they can do',
    '',
    'Generated from the driver registry (`npx tsx scripts/gen-driver-docs.ts`; a test keeps this file in step with the code).',
    '`polyvisor driver list` prints the same table; `--json` gives every cell with its note.',
    'Asking a driver for something it cannot do fails before any work starts with `CAPABILITY_NOT_SUPPORTED`,',
    'naming the driver and the capability; the web UI hides those actions.',
    '',
    '## Drivers',
    '',
    '| driver | live endpoint | what it talks to | URL |',
    '| --- | --- | --- | --- |',
    ...rows.map((r) => `| \`${r.name}\` | ${r.live ? (r.testedAgainst ? `yes (tested against a simulator only: ${r.testedAgainst})` : 'yes') : 'no (files only)'} | ${r.title} | \`${r.urlExample}\` |`),
    '',
    '## Capability matrix',
    '',
    `| capability | ${rows.map((r) => r.name).join(' | ')} | meaning |`,
    `| --- | ${rows.map(() => '---').join(' | ')} | --- |`,
    ...CAPABILITIES.map((c) => `| \`${c}\` | ${rows.map((r) => cell(r, c)).join(' | ')} | ${CAPABILITY_TEXT[c]} |`),
    '',
    '¹ with a note:',
    '',
    ...notes,
    '',
  ].join('\n');
}
