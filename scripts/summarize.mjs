// Prints the suite's closing line from vitest's JSON reports plus the static
// checks (typecheck, lint, import directions), each of which counts as one test.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

const [dir, staticPassed, staticFailed, runsFailed = ''] = process.argv.slice(2);
let passed = Number(staticPassed);
let failed = Number(staticFailed);
let skipped = 0;
const failedNames = [];
/** The first non-empty line of an error message, without colour codes, at most 400 characters. */
const firstLine = (m) => (m.replace(/\x1b\[[0-9;]*m/g, '').split('\n').find((l) => l.trim()) ?? '').trim().slice(0, 400);
for (const project of ['unit', 'fuzz', 'integration']) {
  const file = path.join(dir, `${project}.json`);
  const runFailed = runsFailed.split(' ').includes(project);
  if (!existsSync(file)) {
    if (runFailed) failed += 1; // the run died before reporting
    continue;
  }
  const r = JSON.parse(readFileSync(file, 'utf8'));
  passed += r.numPassedTests ?? 0;
  skipped += (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  let f = r.numFailedTests ?? 0;
  // A test file that failed to load, or whose beforeAll/afterAll failed (its tests then report as skipped),
  // has no failed assertion but still failed: it counts once.
  for (const s of r.testResults ?? []) {
    const file = path.relative(process.cwd(), s.name ?? '');
    if (s.status === 'failed' && !(s.assertionResults ?? []).some((a) => a.status === 'failed')) {
      f += 1;
      failedNames.push(`${project} ${file}: ${firstLine(s.message || '') || 'failed outside its tests (a beforeAll or afterAll hook; its tests report as skipped)'}`);
    }
    for (const a of s.assertionResults ?? []) {
      if (a.status !== 'failed') continue;
      // The first line of its error too: a CI log shows only its tail, and the why is what the next person needs.
      const why = firstLine((a.failureMessages ?? [])[0] ?? '');
      failedNames.push(`${project} ${file} > ${a.fullName ?? a.title}${why ? `\n  why: ${why}` : ''}`);
    }
  }
  if (runFailed && f === 0) f = 1; // e.g. an error outside any test
  failed += f;
}
// The names of what failed, just above the last line, so a log's tail says what to look at.
for (const n of failedNames) console.log(`FAILED ${n}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
