/**
 * Loads and removes the per-VM AppArmor profiles of apparmor-profile.ts with
 * apparmor_parser (argv only: `-r FILE` loads or replaces, `-R FILE`
 * removes), and says whether this host can load them at all: the AppArmor
 * LSM active in the kernel (its securityfs directory and the module's
 * `enabled` parameter) and apparmor_parser installed. Not wired into the VM
 * start yet (issue 23): the launch applies the profile with QEMU's exec.
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { PolyvisorError, run, runChecked, writeFileAtomic } from '../../shared/index.js';
import { appArmorProfile, profileName, type AppArmorProfileInput } from './apparmor-profile.js';

export interface AppArmorHost {
  /** securityfs's AppArmor directory (default /sys/kernel/security/apparmor). */
  securityDir?: string;
  /** The module parameter saying whether AppArmor is enabled (default /sys/module/apparmor/parameters/enabled). */
  enabledFile?: string;
  /** The parser binary (default apparmor_parser, from PATH). */
  parser?: string;
}

export type AppArmorSupport =
  | { loadable: true; parser: string }
  | { loadable: false; reason: string; missing: 'kernel' | 'securityfs' | 'parser' };

const exists = (p: string) => stat(p).then(() => true, () => false);

/** Whether per-VM profiles can be loaded here, and if not, what is missing. */
export async function probeAppArmor(h: AppArmorHost = {}): Promise<AppArmorSupport> {
  const enabledFile = h.enabledFile ?? '/sys/module/apparmor/parameters/enabled';
  const securityDir = h.securityDir ?? '/sys/kernel/security/apparmor';
  const parser = h.parser ?? 'apparmor_parser';
  const enabled = (await readFile(enabledFile, 'utf8').catch(() => '')).trim();
  if (enabled !== 'Y') {
    return { loadable: false, missing: 'kernel', reason: enabled === '' ? `the kernel has no AppArmor (no ${enabledFile})` : `AppArmor is built in but disabled (${enabledFile} says ${enabled})` };
  }
  if (!(await exists(path.join(securityDir, 'profiles')))) {
    return { loadable: false, missing: 'securityfs', reason: `AppArmor is enabled but ${securityDir} is not there (securityfs not mounted, or another LSM is the major one)` };
  }
  const v = await run(parser, ['--version'], { timeoutMs: 10_000 }).catch(() => undefined);
  if (!v || v.code !== 0) return { loadable: false, missing: 'parser', reason: `${parser} is not installed` };
  return { loadable: true, parser };
}

export class AppArmorLoader {
  private readonly parser: string;

  /** `dir`: where the profile files are kept (the daemon's state, 0700), one per VM. */
  constructor(private readonly o: { dir: string; parser?: string }) {
    this.parser = o.parser ?? 'apparmor_parser';
  }

  fileOf(vmId: string): string {
    return path.join(this.o.dir, profileName(vmId));
  }

  /** Writes the VM's profile and loads it (or replaces the loaded one); returns the profile's name. */
  async load(input: AppArmorProfileInput, signal?: AbortSignal): Promise<string> {
    const file = this.fileOf(input.vmId);
    await mkdir(this.o.dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(file, appArmorProfile(input), 0o600);
    await runChecked(this.parser, ['-r', '--', file], { timeoutMs: 60_000, failCode: 'APPARMOR_FAILED', missingCode: 'APPARMOR_FAILED', ...(signal ? { signal } : {}) });
    return profileName(input.vmId);
  }

  /** Unloads the VM's profile and removes its file; a profile that was never loaded is not an error. */
  async unload(vmId: string, signal?: AbortSignal): Promise<void> {
    const file = this.fileOf(vmId);
    if (!(await exists(file))) return;
    const r = await run(this.parser, ['-R', '--', file], { timeoutMs: 60_000, missingCode: 'APPARMOR_FAILED', ...(signal ? { signal } : {}) });
    // "Profile doesn't exist": already gone from the kernel (a reboot, an earlier -R); the file goes anyway.
    if (r.code !== 0 && !/doesn't exist|does not exist|not found/i.test(r.stderr)) {
      throw new PolyvisorError('APPARMOR_FAILED', `${this.parser} -R ${file} exited with ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join('\n')}`);
    }
    await rm(file, { force: true });
  }
}
