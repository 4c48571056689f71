/**
 * `polyvisor appliance build --out DIR [--formats …]`: runs guest/appliance/build.sh (Polyvisor's own
 * small Linux guest, docs/guest.md) with an argv array — no shell — and prints what it wrote with
 * the checksums from its SHA256SUMS.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { VERSION, fail, isPolyvisorError, run } from '../shared/index.js';
import type { GlobalOptions } from './context.js';

export const APPLIANCE_FORMATS = ['qcow2', 'raw', 'vdi', 'vhdx', 'vmdk', 'vmdk-stream', 'vpc', 'ova'] as const;
const SCRIPT = path.join('guest', 'appliance', 'build.sh');

/** "qcow2,vmdk" -> the formats, in the order given, without repeats; INVALID_ARGUMENT for an unknown one. */
export function parseApplianceFormats(list: string): string[] {
  const wanted = list.split(',').map((f) => f.trim()).filter((f) => f !== '');
  if (wanted.length === 0) fail('INVALID_ARGUMENT', `--formats is empty; choose from ${APPLIANCE_FORMATS.join(', ')}`);
  for (const f of wanted) {
    if (!(APPLIANCE_FORMATS as readonly string[]).includes(f)) {
      fail('INVALID_ARGUMENT', `unknown appliance format "${f}"; choose from ${APPLIANCE_FORMATS.join(', ')}`);
    }
  }
  return [...new Set(wanted)];
}

/** The output directory as an absolute path: it may not exist yet, but must not be a file; no control characters. */
export function applianceOutDir(dir: string, cwd = process.cwd()): string {
  // eslint-disable-next-line no-control-regex
  if (dir === '' || /[\u0000-\u001f\u007f]/.test(dir)) fail('INVALID_PATH', '--out must be a directory path without control characters');
  const abs = path.resolve(cwd, dir);
  if (existsSync(abs) && !statSync(abs).isDirectory()) fail('INVALID_PATH', `--out ${abs} exists and is not a directory`);
  return abs;
}

/** The checkout (or release tarball) root holding guest/appliance/build.sh, searched upwards from `from`. */
export function findApplianceScript(from = import.meta.dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, SCRIPT);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) break;
  }
  return fail('APPLIANCE_SOURCES_MISSING', `no ${SCRIPT} above ${from}`);
}

interface Written {
  dir: string;
  files: Array<{ file: string; sha256: string }>;
}

/** A cold build (kernel download, GRUB, all formats) takes minutes on 2 busy cores; a cached one seconds. */
const BUILD_TIMEOUT_MS = 30 * 60_000;

async function runBuild(script: string, out: string, formats: string[]): Promise<Written> {
  const r = await run('bash', [script, '--out', out, '--formats', formats.join(',')], {
    timeoutMs: BUILD_TIMEOUT_MS,
    env: { ...process.env, POLYVISOR_APPLIANCE_VERSION: process.env['POLYVISOR_APPLIANCE_VERSION'] ?? VERSION },
    onStderr: (c) => void process.stderr.write(c),
  });
  if (r.code !== 0) throw new Error(r.signal ? `killed by ${r.signal}` : `exit status ${r.code}`);
  const dir = r.stdout.trim().split('\n').pop() ?? out;
  const files = readFileSync(path.join(dir, 'SHA256SUMS'), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [sha256 = '', file = ''] = l.split(/\s+\*?/);
      return { file, sha256 };
    });
  return { dir, files };
}

export function registerApplianceCommands(program: Command, out: (s: string) => void): void {
  const appliance = program.command('appliance').description("Polyvisor's own small Linux guest image (docs/guest.md)");
  appliance
    .command('build')
    .description('build the appliance disk image (BIOS+UEFI) and write it in the given formats with SHA256SUMS; needs root the first time')
    .requiredOption('--out <dir>', 'directory to write the images and SHA256SUMS into (made if missing)')
    .option('--formats <list>', `comma-separated, from ${APPLIANCE_FORMATS.join(',')}`, APPLIANCE_FORMATS.join(','))
    .action(async (o: { out: string; formats: string }) => {
      const g = program.opts<GlobalOptions>();
      const formats = parseApplianceFormats(o.formats);
      const dir = applianceOutDir(o.out);
      const script = findApplianceScript();
      let written: Written;
      try {
        written = await runBuild(script, dir, formats);
      } catch (err) {
        if (isPolyvisorError(err, 'TIMEOUT')) throw err;
        return fail('APPLIANCE_BUILD_FAILED', `${SCRIPT} failed: ${(err as Error).message}`, { cause: err });
      }
      if (g.json) {
        out(JSON.stringify(written, null, 2) + '\n');
        return;
      }
      out(`wrote ${written.files.length} file(s) to ${written.dir}\n`);
      for (const f of written.files) out(`${f.sha256}  ${f.file}\n`);
    });
}
