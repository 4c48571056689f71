/** The endpoints service: the driver table, the secrets store for credentials, and this daemon's own VMs as endpoint "local". */
import { ACTION_CAPABILITY, EndpointService, isForeignAction } from '../endpoints/index.js';
import { actionsAllowedIn, type VmService } from '../lifecycle/index.js';
import type { EndpointDriver } from '../drivers/index.js';
import type { Logger } from '../shared/index.js';
import { LOCAL_ENDPOINT, type InventoryVmView } from '../spec/index.js';
import { QEMU_DRIVER_NAME } from '../drivers/qemu/index.js';
import type { SecretStore } from '../secrets/index.js';
import { buildDriverRegistry } from './driver-wiring.js';

/** `extraDrivers`: for tests (an in-memory stand-in), added beside the real ones. */
export function wireEndpoints(o: { service: VmService; secrets: SecretStore; logger: Logger; stagingDir: string; libvirtDiskRoot?: string; accel?: 'auto' | 'kvm' | 'tcg'; extraDrivers?: EndpointDriver[] }): EndpointService {
  const drivers = buildDriverRegistry({ ...(o.libvirtDiskRoot ? { libvirtDiskRoot: o.libvirtDiskRoot } : {}), ...(o.accel ? { accel: o.accel } : {}) });
  for (const d of o.extraDrivers ?? []) drivers.add(d);
  const localRows = async (): Promise<InventoryVmView[]> => (await o.service.list()).map((r) => ({
    endpoint: LOCAL_ENDPOINT,
    driver: QEMU_DRIVER_NAME,
    ref: r.name,
    name: r.name,
    id: r.id,
    state: r.state,
    cpus: r.spec.cpu.count,
    memoryBytes: r.spec.memory,
    host: r.host,
    actions: [...new Set(actionsAllowedIn(r.state).filter(isForeignAction).map((a) => ACTION_CAPABILITY[a]))],
  }));
  return new EndpointService({ drivers, vms: o.service, stagingDir: o.stagingDir, secrets: o.secrets, localRows, logger: o.logger.child({ component: 'endpoints' }) });
}
