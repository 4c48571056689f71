/**
 * Other processes on the same file: a writer SIGKILLed right after its promise
 * resolves keeps its write, and racing compare-and-set updates from several
 * processes let exactly one win. (SIGKILL shows nothing is held in the
 * process; power-loss durability rests on synchronous=FULL, checked in
 * migrations.test.ts.)
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newUuid, run, type RunResult } from '../../shared/index.js';
import { validateSpec } from '../../spec/index.js';
import { openSqliteStore } from './index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');

const CHILD = `
import { existsSync } from 'node:fs';
import { openSqliteStore } from ${JSON.stringify(pathToFileURL(path.join(here, 'index.ts')).href)};
const [file, mode, arg] = process.argv.slice(2);
const store = openSqliteStore(file);
if (mode === 'write-then-die') {
  const rec = JSON.parse(arg);
  await store.createVm(rec);
  for (let i = 1; i <= 20; i++) await store.updateVm(rec.name, { stateReason: 'step ' + i }, i);
  process.kill(process.pid, 'SIGKILL');
} else if (mode === 'race') {
  process.stdout.write('ready\\n');
  while (!existsSync(arg)) await new Promise((r) => setTimeout(r, 1));
  try {
    await store.updateVm('web', { stateReason: 'won by ' + process.pid }, 1);
    process.stdout.write('won\\n');
  } catch (err) {
    process.stdout.write(String(err.code) + '\\n');
  }
  await store.close();
}
`;

let dir: string;
let file: string;
let script: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'pv-durable-'));
  file = path.join(dir, 'state.db');
  script = path.join(dir, 'child.mjs');
  await writeFile(script, CHILD);
});
afterEach(() => rm(dir, { recursive: true, force: true }));

function child(args: string[], onStdout?: (c: string) => void): Promise<RunResult> {
  return run(process.execPath, ['--import', 'tsx', script, file, ...args], { cwd: repoRoot, timeoutMs: 30_000, onStdout });
}

const record = (name: string) => ({
  id: newUuid(),
  name,
  spec: validateSpec({ name, disks: [{ name: 'root', size: '1Gi' }] }),
  state: 'created',
  stateReason: '',
  host: 'h',
  runtime: null,
});

describe('sqlite store across processes', () => {
  it('keeps a write acknowledged just before SIGKILL', async () => {
    const r = await child(['write-then-die', JSON.stringify(record('web'))]);
    expect(r.signal, r.stderr).toBe('SIGKILL');
    const store = openSqliteStore(file);
    try {
      const got = await store.getVm('web');
      expect(got).toMatchObject({ stateReason: 'step 20', generation: 21 });
    } finally {
      await store.close();
    }
  });

  it('lets exactly one of several racing processes win a compare-and-set', async () => {
    const store = openSqliteStore(file);
    await store.createVm(record('web') as never);
    const go = path.join(dir, 'go');
    let ready = 0;
    const n = 4;
    const kids = Array.from({ length: n }, () =>
      child(['race', go], (c) => {
        ready += c.split('ready').length - 1;
      }),
    );
    const deadline = Date.now() + 25_000;
    while (ready < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await writeFile(go, '');
    const results = await Promise.all(kids);
    const outs = results.map((r) => r.stdout.trim().split('\n').pop()).sort();
    expect(outs, results.map((r) => r.stderr).join('\n')).toEqual(['VM_BUSY', 'VM_BUSY', 'VM_BUSY', 'won']);
    const got = await store.getVm('web');
    expect(got?.generation).toBe(2);
    expect(got?.stateReason).toMatch(/^won by \d+$/);
    await store.close();
    expect(existsSync(file)).toBe(true);
  });
});
