/** Hypervisor tools on this host: QEMU and qemu-img versions, the accelerator, known QEMU bugs. */
import { run } from '../shared/index.js';
import { accelFinding, readAccelHost } from './kvm-advice.js';
import { fix, type DoctorDeps, type Finding } from './types.js';

const INSTALL = fix('apt-get', 'install', '--no-install-recommends', 'qemu-system-x86', 'qemu-utils');

export function parseVersion(text: string): [number, number, number] | null {
  const m = /version (\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : null;
}

async function toolVersion(check: string, binary: string, signal: AbortSignal): Promise<{ finding: Finding; version: [number, number, number] | null }> {
  try {
    const r = await run(binary, ['--version'], { timeoutMs: 10_000, signal });
    const version = parseVersion(r.stdout);
    if (r.code !== 0 || !version) return { version, finding: { check, severity: 'critical', subject: binary, message: `${binary} --version failed: ${r.stderr.trim() || r.stdout.trim()}`, fix: INSTALL } };
    return { version, finding: { check, severity: 'ok', subject: binary, message: `${binary} ${version.join('.')}`, fix: null } };
  } catch (err) {
    return { version: null, finding: { check, severity: 'critical', subject: binary, message: `${binary} is not installed (${(err as Error).message})`, fix: INSTALL } };
  }
}

export async function hostChecks(d: DoctorDeps, signal: AbortSignal): Promise<Finding[]> {
  const qemu = await toolVersion('qemu', d.qemuBinary, signal);
  const img = await toolVersion('qemu-img', d.qemuImgBinary, signal);
  const out = [qemu.finding, img.finding];
  if (!qemu.version) return out;
  const probe = await d.probeAccel(signal).catch((err: unknown) => ({ accel: null, reason: (err as Error).message, kvmTried: false }));
  out.push(accelFinding(probe, await readAccelHost(d)));
  const [major] = qemu.version;
  if (major < 9 && probe.accel === 'tcg') {
    out.push({
      check: 'qemu-bug', severity: 'warning', subject: `qemu ${qemu.version.join('.')}`,
      message: 'QEMU before 9.0 under TCG can miss pages dirtied during live migration (fixed upstream by "physmem: Fix migration dirty bitmap coherency with TCG memory access"): a migrated guest may panic or hang although QEMU reports success. Guest RAM sizes that are not a multiple of 256 KiB avoided it in every measured run.',
      fix: fix('apt-get', 'install', '-t', 'bookworm-backports', 'qemu-system-x86'),
    });
  }
  return out;
}
