/** Free space in each pool and the integrity of the store. */
import { fix, type DoctorDeps, type Finding } from './types.js';

const gib = (b: number): string => `${(b / 1024 ** 3).toFixed(2)} GiB`;

export async function poolChecks(d: DoctorDeps): Promise<Finding[]> {
  const min = d.poolMinFreeRatio ?? 0.1;
  const out: Finding[] = [];
  for (const p of await d.pools()) {
    const ratio = p.capacityBytes > 0 ? p.freeBytes / p.capacityBytes : 0;
    const msg = `pool ${p.name} (${p.path}): ${gib(p.freeBytes)} free of ${gib(p.capacityBytes)} (${(ratio * 100).toFixed(1)}%)`;
    if (ratio >= min) {
      out.push({ check: 'pool', severity: 'ok', subject: p.name, message: msg, fix: null });
      continue;
    }
    out.push({
      check: 'pool', severity: ratio < min / 3 ? 'critical' : 'warning', subject: p.name,
      message: `${msg}: under ${(min * 100).toFixed(0)}%; guests writing to it pause on I/O errors when it fills`,
      fix: await largestVolumeFix(d, p.name),
    });
  }
  return out;
}

/** Deleting the pool's largest volume no VM uses is the one command that surely frees space; else listing them. */
async function largestVolumeFix(d: DoctorDeps, pool: string): Promise<Finding['fix']> {
  const vols = await d.volumes(pool).catch(() => []);
  const used = new Set((await d.vms.list()).flatMap((r) => Object.values(d.vms.plan(r).diskPaths)));
  const free = vols.filter((v) => !used.has(v.path)).sort((a, b) => (b.actualSize ?? 0) - (a.actualSize ?? 0))[0];
  return free ? fix('polyvisor', 'volume', 'rm', pool, free.name) : fix('polyvisor', 'volume', 'list', pool);
}

export async function storeChecks(d: DoctorDeps): Promise<Finding[]> {
  try {
    const res = await d.integrityCheck();
    if (res.length === 1 && res[0] === 'ok') return [{ check: 'store', severity: 'ok', subject: d.dbFile, message: 'state database passes PRAGMA integrity_check', fix: null }];
    return [{
      check: 'store', severity: 'critical', subject: d.dbFile, message: `state database is damaged: ${res.slice(0, 5).join('; ')}`,
      fix: fix('sqlite3', d.dbFile, `.recover --ignore-freelist`),
    }];
  } catch (err) {
    return [{ check: 'store', severity: 'critical', subject: d.dbFile, message: `integrity check failed: ${(err as Error).message}`, fix: null }];
  }
}
