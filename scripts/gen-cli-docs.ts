/** Regenerates the command reference in docs/cli.md from the CLI's command tree (src/cli/cli-docs.ts). */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { renderCliDocs } from '../src/cli/cli-docs.js';
import { buildProgram } from '../src/cli/program.js';

const file = path.join(import.meta.dirname, '..', 'docs', 'cli.md');
writeFileSync(file, renderCliDocs(buildProgram(() => {}), readFileSync(file, 'utf8')));
