/**
 * The golden harness of the Hyper-V, Proxmox and libvirt writers and readers
 * (golden.ts is the OVF, VMX and VirtualBox one): a case's text is
 * compared with its file under test/golden/interchange/FORMAT/, and
 * `UPDATE_GOLDEN=1` rewrites the files (review the diff).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import { validateSpec, type VmSpec } from '../../../src/spec/index.js';
import type { ExportDisk, ImportPlan } from '../../../src/interchange/index.js';

export const GOLDEN_DIR = path.resolve(import.meta.dirname);

export function golden(format: string, file: string, actual: string): void {
  const p = path.join(GOLDEN_DIR, format, file);
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(p)) {
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, actual);
  }
  expect(actual).toBe(readFileSync(p, 'utf8'));
}

/** What an export of the spec's disks looks like: NAME-DISK.EXT (or the name the format wants). */
export function exportDisks(spec: VmSpec, ext: string, format: ExportDisk['format'], name = (d: string, _i: number): string => `${spec.name}-${d}.${ext}`): ExportDisk[] {
  return spec.disks.filter((d) => d.media === 'disk').map((d, i) => ({ name: d.name, file: name(d.name, i), format, capacity: d.size ?? 10 * 1024 ** 3 }));
}

/** A plan as stable JSON text (for the golden .plan.json files). */
export const planJson = (plan: ImportPlan): string => `${JSON.stringify(plan, null, 2)}\n`;

/** The plan's spec with each disk placed at an absolute path, validated: it must be a spec the daemon takes. */
export function validatedPlan(plan: ImportPlan): VmSpec {
  return validateSpec({
    ...plan.spec,
    disks: (plan.spec.disks ?? []).map((d) => (d.path === undefined ? d : { ...d, path: d.path.startsWith('/') ? d.path : `/imports/${d.path}` })),
  });
}

/** What every format carries over: the name, vCPUs, memory (to 2 MiB), firmware, the disks' media in order, NIC MACs. */
export function expectCoreKept(before: VmSpec, after: VmSpec): void {
  expect(after.name).toBe(before.name);
  expect(after.cpu.count).toBe(before.cpu.count);
  expect(Math.abs(after.memory - before.memory)).toBeLessThan(2 * 1024 ** 2);
  expect(after.boot.firmware).toBe(before.boot.firmware);
  expect(after.disks.map((d) => d.media)).toEqual(before.disks.map((d) => d.media));
  expect(after.networks.map((n) => n.mac)).toEqual(before.networks.map((n) => n.mac));
}
