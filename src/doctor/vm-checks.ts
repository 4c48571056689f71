/**
 * VMs against reality: records whose QEMU is gone, disks whose file is
 * missing, QEMU processes and VM directories no VM owns, guest clock skew.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { GuestAgentClient } from '../qmp/index.js';
import { pidAlive, timeoutSignal } from '../shared/index.js';
import type { VmRecord } from '../store/index.js';
import { fix, type DoctorDeps, type Finding } from './types.js';

const LIVE = new Set(['starting', 'running', 'paused', 'stopping', 'migrating']);

export async function vmChecks(d: DoctorDeps, recs: VmRecord[]): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const rec of recs) {
    const pid = rec.runtime?.pid;
    if (LIVE.has(rec.state) && (pid === undefined || !pidAlive(pid))) {
      out.push({ check: 'vm-process', severity: 'critical', subject: rec.name, message: `VM ${rec.name} is ${rec.state} but its QEMU (pid ${pid ?? 'unknown'}) is gone`, fix: fix('polyvisor', 'vm', 'kill', rec.name) });
    }
    for (const [disk, file] of Object.entries(d.vms.plan(rec).diskPaths)) {
      if (existsSync(file)) continue;
      out.push({
        check: 'vm-disk', severity: 'critical', subject: rec.name,
        message: `disk ${disk} of VM ${rec.name} is missing: ${file} does not exist (the VM cannot start)`,
        fix: fix('polyvisor', 'disk', 'detach', rec.name, disk),
      });
    }
  }
  if (!out.length) out.push({ check: 'vm-process', severity: 'ok', subject: null, message: `${recs.length} VM(s): every live VM has its QEMU and every disk file exists`, fix: null });
  return out;
}

/** QEMU processes whose argv names our VM directory but that no VM of this daemon drives. */
export async function orphanProcesses(d: DoctorDeps, recs: VmRecord[]): Promise<Finding[]> {
  const owned = new Set<number>();
  const migrating = new Set<string>();
  for (const r of recs) {
    const inst = d.vms.liveInstance(r.name);
    if (inst) owned.add(inst.info.pid);
    if (r.state === 'migrating') migrating.add(r.id); // two processes for one VM while it moves
  }
  const out: Finding[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const argv = (await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!path.basename(argv[0] ?? '').startsWith('qemu-system') || !argv.some((a) => a.includes(d.vmsDir + path.sep))) continue;
    const pid = Number(entry);
    const id = argv[argv.indexOf('-uuid') + 1] ?? '';
    if (owned.has(pid) || migrating.has(id)) continue;
    const vm = recs.find((r) => r.id === id);
    out.push({
      check: 'orphan-process', severity: 'warning', subject: String(pid),
      message: `QEMU pid ${pid} runs from ${d.vmsDir} but ${vm ? `VM ${vm.name} (${vm.state}) does not drive it` : 'belongs to no VM'}`,
      fix: fix('kill', String(pid)),
    });
  }
  if (!out.length) out.push({ check: 'orphan-process', severity: 'ok', subject: null, message: 'no orphaned QEMU processes', fix: null });
  return out;
}

export async function orphanDirs(d: DoctorDeps, recs: VmRecord[]): Promise<Finding[]> {
  const ids = new Set(recs.map((r) => r.id));
  const out: Finding[] = [];
  for (const e of await readdir(d.vmsDir, { withFileTypes: true }).catch(() => [])) {
    if (!e.isDirectory() || ids.has(e.name) || e.name.startsWith('.')) continue; // dot-folders are the daemon's own (.qemu-uids: uid allocations)
    const dir = path.join(d.vmsDir, e.name);
    out.push({ check: 'orphan-dir', severity: 'info', subject: dir, message: `VM directory ${dir} belongs to no VM`, fix: fix('rm', '-r', '--', dir) });
  }
  if (!out.length) out.push({ check: 'orphan-dir', severity: 'ok', subject: null, message: 'no orphaned VM directories', fix: null });
  return out;
}

/** Guest clock against the host's, for running VMs with a guest agent. */
export async function clockChecks(d: DoctorDeps, recs: VmRecord[], signal: AbortSignal): Promise<Finding[]> {
  const max = d.maxClockSkewSeconds ?? 2;
  const out: Finding[] = [];
  await Promise.all(recs.filter((r) => r.state === 'running' && r.spec.agent.enabled).map(async (rec) => {
    let agent: GuestAgentClient | undefined;
    try {
      agent = await GuestAgentClient.connect(d.vms.files(rec).agentSocket, { signal: timeoutSignal(3_000, signal), timeoutMs: 3_000 });
      const ns = await agent.execute<number>('guest-get-time', undefined, { signal: timeoutSignal(3_000, signal) });
      const skew = ns / 1e9 - Date.now() / 1000;
      const msg = `guest clock of ${rec.name} is ${skew >= 0 ? 'ahead' : 'behind'} by ${Math.abs(skew).toFixed(3)} s`;
      out.push(Math.abs(skew) <= max
        ? { check: 'clock', severity: 'ok', subject: rec.name, message: msg, fix: null }
        : { check: 'clock', severity: 'warning', subject: rec.name, message: `${msg}; run NTP (chrony) in the guest or \`hwclock --hctosys\` there`, fix: null });
    } catch (err) {
      out.push({ check: 'clock', severity: 'info', subject: rec.name, message: `guest agent of ${rec.name} did not answer (${(err as Error).message}); clock not checked`, fix: null });
    } finally {
      agent?.close();
    }
  }));
  return out;
}
