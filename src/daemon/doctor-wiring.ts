/** The doctor's view of this daemon: its services, driver probe, store and paths. */
import { runDoctor } from '../doctor/index.js';
import type { DoctorRunner } from '../api/index.js';
import type { Driver } from '../drivers/index.js';
import { VmCgroups, probeAppArmor } from '../drivers/qemu/index.js';
import type { NetworkService, VmService } from '../lifecycle/index.js';
import type { PoolService } from '../storage/index.js';
import type { DaemonConfig } from './config.js';
import { qemuUserView } from './qemu-user-wiring.js';

export function doctorRunner(o: { config: DaemonConfig; service: VmService; driver: Driver; pools: PoolService; integrityCheck: () => Promise<string[]>; networks?: NetworkService | undefined }): DoctorRunner {
  const c = o.config;
  const cgroups = new VmCgroups();
  return (signal) => runDoctor({
    host: c.hostName,
    vms: o.service,
    probeAccel: (s) => o.driver.probeAccel(s),
    pools: () => o.pools.listPools(),
    volumes: (pool) => o.pools.listVolumes(pool),
    integrityCheck: o.integrityCheck,
    qemuBinary: c.qemuBinary,
    qemuImgBinary: c.qemuImgBinary,
    vmsDir: c.vmsDir,
    dbFile: c.dbFile,
    probeCgroups: () => cgroups.probe(),
    probeAppArmor: () => probeAppArmor(),
    qemuUser: () => qemuUserView(c),
    apiListener: { listen: c.listen, tls: c.tls },
    ...(o.networks ? { networks: () => o.networks!.list(), networkVlanSupport: () => o.networks!.vlanSupport() } : {}),
  }, signal);
}
