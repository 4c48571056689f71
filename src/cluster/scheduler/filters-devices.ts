/**
 * Device availability (issue 22): a VM that passes a GPU through needs a free
 * GPU of the model it names (vendor:device) or the address; a VM with a
 * mediated device needs a free instance of its mdev type. "Free" is what the
 * host published (bound to vfio-pci, held by no VM) less what this placement
 * run gave away. Pure.
 */
import type { FilterFn } from './filter-fn.js';

export const devicesFilter: FilterFn = (c, h) => {
  const t = c.req.topology;
  if (!t?.gpus?.length && !t?.mdevTypes?.length) return undefined;
  const topo = h.topology;
  if (!topo) return 'needs devices; this host published no device inventory';
  const { missing } = topo.pickGpus(t.gpus ?? []);
  if (missing !== undefined) {
    const same = topo.gpus.filter((g) => g.model === missing || g.address === missing);
    return same.length
      ? `no free GPU ${missing}: ${same.map((g) => `${g.address} ${g.free ? 'asked twice' : 'in use or not on vfio-pci'}`).join(', ')}`
      : `no GPU ${missing} on this host${topo.gpus.length ? ` (has ${[...new Set(topo.gpus.map((g) => g.model))].join(', ')})` : ''}`;
  }
  const short = topo.mdevShort(t.mdevTypes ?? []);
  if (short !== undefined) {
    const offers = topo.gpus.filter((g) => short in g.mdev);
    return offers.length
      ? `no free instance of mdev type ${short} (${offers.map((g) => `${g.address}: ${g.mdev[short]} free`).join(', ')})`
      : `no device of this host offers mdev type ${short}`;
  }
  return undefined;
};
