/**
 * `polyvisor release verify DIR [--key PUB.pem] [--ignore-missing]`: checks a release directory
 * written by scripts/release.sh — every SHA256SUMS line against the files, and SHA256SUMS.sig with
 * the release's Ed25519 public key (docs/releasing.md). Local: no daemon involved.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { ReleaseReport } from '../release/index.js';
import { fail } from '../shared/index.js';
import type { GlobalOptions } from './context.js';

function readKeyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    return fail('FILE_NOT_FOUND', `cannot read the key file ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { cause: err });
  }
}

const SIGNATURE_TEXT: Record<ReleaseReport['signature'], string> = {
  valid: 'valid',
  invalid: 'INVALID',
  missing: 'MISSING (no SHA256SUMS.sig)',
  unchecked: 'not checked (give --key PUB.pem to check it)',
};

/** The report as text: one line per file, then the signature and a verdict. */
export function renderReleaseReport(r: ReleaseReport, ignoreMissing = false): string {
  const lines = r.files.map((f) => `${f.status === 'ok' ? 'OK     ' : f.status === 'changed' ? 'CHANGED' : ignoreMissing ? 'absent ' : 'MISSING'}  ${f.path}`);
  for (const x of r.extra) lines.push(`EXTRA    ${x} (not in SHA256SUMS)`);
  lines.push(`signature: ${SIGNATURE_TEXT[r.signature]}${r.keyFingerprint ? ` (key ${r.keyFingerprint})` : ''}`);
  const checked = r.files.filter((f) => f.status !== 'missing').length;
  if (r.ok) lines.push(`release ${r.dir}: ${checked} file(s) match SHA256SUMS${r.signature === 'valid' ? ', signed by the key' : ''}`);
  return lines.join('\n') + '\n';
}

export function registerReleaseCommands(program: Command, out: (s: string) => void): void {
  const release = program.command('release').description('Polyvisor release artefacts (docs/releasing.md; scripts/release.sh makes them)');
  release
    .command('verify <dir>')
    .description('check a release directory: every file against SHA256SUMS (changed, missing and unlisted files named) and SHA256SUMS.sig with the public key')
    .option('--key <file>', 'Ed25519 public key (PEM) to check SHA256SUMS.sig with; without it the signature is not checked')
    .option('--ignore-missing', 'files listed in SHA256SUMS but absent are not failures (a partial download)')
    .action(async (dir: string, o: { key?: string; ignoreMissing?: boolean }) => {
      const g = program.opts<GlobalOptions>();
      const ignoreMissing = o.ignoreMissing === true;
      const { assertReleaseOk, verifyRelease } = await import('../release/index.js'); // loaded only for this command
      const report = await verifyRelease(dir, {
        ...(o.key !== undefined ? { publicKeyPem: readKeyFile(o.key), keySource: o.key } : {}),
        ignoreMissing,
      });
      out(g.json ? JSON.stringify(report, null, 2) + '\n' : renderReleaseReport(report, ignoreMissing));
      assertReleaseOk(report, { ignoreMissing });
    });
}
