/**
 * Builds a VM's cloud-init NoCloud seed (spec.cloudInit) into its runtime
 * directory right before QEMU starts, by wrapping the driver: every path
 * that launches a QEMU process from a plan (start, restore, an incoming
 * migration) gets a fresh seed; the driver's argv attaches it as a CD-ROM.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { nicMacs, type Bootable, type LaunchPlan } from '../drivers/index.js';
import { CLOUD_INIT_SEED_FILE } from '../spec/index.js';
import { buildSeedIso, seedFiles } from '../storage/index.js';

export async function buildSeedFor(plan: LaunchPlan, signal?: AbortSignal): Promise<string | undefined> {
  const ci = plan.spec.cloudInit;
  if (!ci) return undefined;
  await mkdir(plan.dir, { recursive: true, mode: 0o750 });
  const file = path.join(plan.dir, CLOUD_INIT_SEED_FILE);
  await buildSeedIso(file, seedFiles(ci, { name: plan.spec.name, id: plan.id, macs: nicMacs(plan.id, plan.spec.networks) }), signal ? { signal } : {});
  return file;
}

/** Launch methods whose first argument is a LaunchPlan. */
const LAUNCHERS = ['start', 'prepareIncoming'] as const;

export function withCloudInitSeed<D extends Bootable>(driver: D): D {
  const wrapped = { ...driver } as unknown as Record<string, unknown>;
  for (const key of LAUNCHERS) {
    const fn = (driver as unknown as Record<string, unknown>)[key];
    if (typeof fn !== 'function') continue;
    wrapped[key] = async (plan: LaunchPlan, ...rest: unknown[]) => {
      await buildSeedFor(plan, rest.find((r): r is AbortSignal => r instanceof AbortSignal));
      return (fn as (...a: unknown[]) => unknown).call(driver, plan, ...rest);
    };
  }
  return wrapped as D;
}
