/**
 * Listing 1,000 VMs on vcsim (VMware's vCenter SIMULATOR, govmomi 0.24; not a
 * real vCenter) through the vSphere driver, beside direct SOAP calls written
 * here with node's https and no driver code, in the same run, rounds
 * interleaved (`bash bench/run.sh list-vsphere`):
 *
 * - driver cold: connect (TLS, RetrieveServiceContent, Login) + list() + close;
 *   list() reads name, power state, host, CPUs, memory, guest id, firmware and
 *   the device list (disks, NICs) of every VM and the host names.
 * - driver cold brief: the same with list({ brief: true }) (no device list:
 *   what the inventory's rows need).
 * - native minimal: TLS + Login + CreateContainerView + RetrievePropertiesEx of
 *   name and runtime.powerState only (what `govc ls`-like listing asks).
 * - native same data: the same calls asking the driver's properties (and
 *   those of the brief list).
 * - warm: a second list on an open session (driver) / a second
 *   RetrievePropertiesEx on the open connection (native minimal).
 *
 * Writes the `list-vsphere` section of docs/benchmarks.md.
 * Env: BENCH_ROUNDS (default 7), BENCH_VMS (default 1000).
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createVsphereDriver } from '../src/drivers/vsphere/index.js';
import { startVcsim } from '../test/helpers/vcsim.js';
import { loadNow } from './lib/machine.js';
import { ROOT } from './lib/polyvisor.js';
import { table, writeSection } from './lib/report.js';
import { nativeList } from './lib/vsphere-native.js';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 7);
const VMS = Number(process.env['BENCH_VMS'] ?? 1000);
const log = (s: string): void => void process.stderr.write(`[list-vsphere] ${s}\n`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The driver's list properties, spelled out here (no driver code in the peer). */
const BRIEF_PATHS = ['name', 'runtime.powerState', 'runtime.host', 'config.hardware.numCPU', 'config.hardware.memoryMB', 'config.guestId', 'config.firmware'];
const SAME_PATHS = [...BRIEF_PATHS, 'config.hardware.device'];

async function main(): Promise<void> {
  log(`starting vcsim with ${VMS} VMs (${VMS / 2} per resource pool)`);
  const t = performance.now();
  const sim = await startVcsim({ vms: Math.ceil(VMS / 2), timeoutMs: 600_000 });
  log(`vcsim serves after ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const driver = createVsphereDriver();
  const rows: Record<string, number[]> = { driverCold: [], driverBrief: [], driverWarm: [], nativeMin: [], nativeMinWarm: [], nativeSame: [], nativeBrief: [] };
  let listed = 0;
  try {
    for (let r = 0; r < ROUNDS + 1; r++) {
      const t0 = performance.now();
      const s = await driver.connect({ name: 'vcsim', url: sim.url, user: sim.user, password: sim.password, ca: sim.ca }, AbortSignal.timeout(300_000));
      const vms = await s.list(AbortSignal.timeout(300_000));
      const cold = performance.now() - t0;
      const t1 = performance.now();
      await s.list(AbortSignal.timeout(300_000));
      const warm = performance.now() - t1;
      await s.close();
      const tb = performance.now();
      const sb = await driver.connect({ name: 'vcsim', url: sim.url, user: sim.user, password: sim.password, ca: sim.ca }, AbortSignal.timeout(300_000));
      const briefVms = await sb.list(AbortSignal.timeout(300_000), { brief: true });
      const brief = performance.now() - tb;
      await sb.close();
      const min = await nativeList(sim.url, sim.ca, sim.user, sim.password, ['name', 'runtime.powerState'], 1);
      const same = await nativeList(sim.url, sim.ca, sim.user, sim.password, SAME_PATHS, 0);
      const sameBrief = await nativeList(sim.url, sim.ca, sim.user, sim.password, BRIEF_PATHS, 0);
      if (new Set([vms.length, briefVms.length, min.count, same.count, sameBrief.count]).size !== 1) {
        throw new Error(`counts differ: driver ${vms.length}/${briefVms.length}, native ${min.count}/${same.count}/${sameBrief.count}`);
      }
      listed = vms.length;
      if (r === 0) continue; // warm-up round (JIT, vcsim's first views)
      rows.driverCold!.push(cold);
      rows.driverWarm!.push(warm);
      rows.nativeMin!.push(min.cold);
      rows.nativeMinWarm!.push(min.warm);
      rows.nativeSame!.push(same.cold);
      rows.driverBrief!.push(brief);
      rows.nativeBrief!.push(sameBrief.cold);
      log(`round ${r}: driver cold ${cold.toFixed(0)} ms (brief ${brief.toFixed(0)}), warm ${warm.toFixed(0)} ms; native minimal ${min.cold.toFixed(0)} ms (warm ${min.warm.toFixed(0)}), same data ${same.cold.toFixed(0)} ms (brief ${sameBrief.cold.toFixed(0)})`);
    }
  } finally {
    await sim.stop();
  }
  const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)])) as Record<string, number>;
  const ms = (x: number): string => x.toFixed(1);
  const body = [
    `## Listing ${listed} VMs on vcsim (vSphere driver)`,
    '',
    `vcsim (VMware's vCenter simulator, govmomi 0.24.2, HTTPS on 127.0.0.1) with ${listed} VMs; ${ROUNDS} rounds after a warm-up, interleaved, medians; load before: ${loadNow()}. ` +
      'Cold = a new connection: TLS, login and the listing. The native peers are hand-written SOAP calls with node\'s https (no driver code).',
    '',
    table(['what', 'ms (median)', 'ratio to native minimal cold'], [
      ['driver cold: connect + list() (every VM with host, CPUs, memory, disks, NICs)', ms(m.driverCold!), (m.driverCold! / m.nativeMin!).toFixed(2)],
      ['native cold, same properties as the driver', ms(m.nativeSame!), (m.nativeSame! / m.nativeMin!).toFixed(2)],
      ['driver cold brief: connect + list({ brief: true }) (no disks, NICs: the inventory\'s rows)', ms(m.driverBrief!), (m.driverBrief! / m.nativeMin!).toFixed(2)],
      ['native cold, same properties as the brief list', ms(m.nativeBrief!), (m.nativeBrief! / m.nativeMin!).toFixed(2)],
      ['native cold, name + power state only', ms(m.nativeMin!), '1.00'],
      ['driver warm: list() on an open session', ms(m.driverWarm!), (m.driverWarm! / m.nativeMin!).toFixed(2)],
      ['native warm: name + power state on an open connection', ms(m.nativeMinWarm!), (m.nativeMinWarm! / m.nativeMin!).toFixed(2)],
    ]),
    '',
    `Driver cold vs native cold asking the same properties: ${(m.driverCold! / m.nativeSame!).toFixed(2)}x; brief: ${(m.driverBrief! / m.nativeBrief!).toFixed(2)}x.`,
  ].join('\n');
  process.stdout.write(`${body}\n`);
  writeSection(path.join(ROOT, 'docs', 'benchmarks.md'), 'list-vsphere', body);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
  process.exit(1);
});
