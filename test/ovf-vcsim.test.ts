/**
 * Exported OVF checked by a parser that is not ours: vcsim (VMware's vCenter
 * simulator, govmomi 0.24; scripts/vcsim-build.sh) parses each golden case's
 * descriptor with govmomi's ovf package in OvfManager.CreateImportSpec and
 * turns it into a VM import spec. Asserted: no SOAP fault, no error and no
 * warning, and the import spec carries the CPUs, memory, disks and NICs the
 * descriptor says. One limit of this simulator (not of vSphere) is allowed
 * by name: govmomi 0.24's simulator has no case for ResourceType 20 (the SATA
 * controller real vSphere reads as vmware.sata.ahci) and for LSI Logic SAS
 * spelled as VMware writes it ("lsilogicsas"); those items, and only those,
 * may come back as OvfUnsupportedType.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SoapClient } from '../src/drivers/vsphere/soap-client.js';
import { asArray, moRef, text, xsiType, type MoRef, type Node } from '../src/drivers/vsphere/soap-envelope.js';
import { writeOvf } from '../src/interchange/index.js';
import { validateSpec } from '../src/spec/index.js';
import { INTERCHANGE_CASES } from './golden/interchange/cases.js';
import { limit } from './helpers/limits.js';
import { startVcsim, type Vcsim } from './helpers/vcsim.js';

let sim: Vcsim;
let soap: SoapClient;
let pool: MoRef;
let datastore: MoRef;
const signal = (): AbortSignal => AbortSignal.timeout(30_000);

async function find(path: string): Promise<MoRef> {
  const r = await soap.call('FindByInventoryPath', moRef('SearchIndex', 'SearchIndex'), { inventoryPath: path }, signal());
  const v = r['returnval'] as Node | undefined;
  if (!v) throw new Error(`vcsim has no ${path}`);
  return moRef(String(v['@type']), String(text(v)));
}

beforeAll(async () => {
  sim = await startVcsim({ hosts: 1, vms: 0 });
  const u = new URL(sim.url);
  soap = new SoapClient(u.pathname, { origin: new URL(u.origin), ca: sim.ca, insecure: false, label: 'vcsim' });
  await soap.retrieveServiceContent(signal());
  await soap.login(sim.user, sim.password, signal());
  pool = await find('DC0/host/DC0_C0/Resources');
  datastore = await find('DC0/datastore/LocalDS_0');
}, limit('daemon', 3));

afterAll(async () => {
  await soap?.logout(AbortSignal.timeout(10_000)).catch(() => undefined);
  await sim?.stop();
});

/** Items this simulator (govmomi 0.24) cannot read though vSphere does: see the header. */
const SIMULATOR_GAP = /unsupported resource type: 20|unknown SCSI controller type 'lsilogicsas'/;

describe('exported OVF accepted by vcsim OvfManager.CreateImportSpec', () => {
  for (const c of INTERCHANGE_CASES) {
    it(c.name, async () => {
      const spec = validateSpec(c.spec);
      const ovf = writeOvf({ spec, disks: c.disks }).files[0]!.content;
      const r = await soap.call('CreateImportSpec', moRef('OvfManager', 'OvfManager'), {
        ovfDescriptor: ovf,
        resourcePool: pool,
        datastore,
        cisp: { $type: 'OvfCreateImportSpecParams', locale: '', deploymentOption: '', entityName: `ovf-${c.name}` },
      }, signal());
      const ret = r['returnval'] as Node;
      const messages = (k: string): string[] => asArray(ret[k]).map((e) => String(text((e as Node)['localizedMessage']) ?? JSON.stringify(e)));
      const errors = messages('error');
      const sataOrSas = spec.disks.some((d) => d.bus === 'sata' && d.media === 'disk') || spec.disks.some((d) => d.media === 'cdrom' && d.bus === 'sata') || spec.scsiController === 'lsisas1068';
      for (const e of errors) expect(sataOrSas && SIMULATOR_GAP.test(e), `vcsim error: ${e}`).toBe(true);
      expect(messages('warning')).toEqual([]);
      const config = (ret['importSpec'] as Node)['configSpec'] as Node;
      expect(Number(text(config['numCPUs']))).toBe(spec.cpu.count);
      expect(Number(text(config['memoryMB']))).toBe(Math.ceil(spec.memory / 1024 ** 2));
      expect(text(config['name'])).toBe(`ovf-${c.name}`);
      const files = asArray(ret['fileItem']).map((f) => String(text((f as Node)['path'])));
      const uploaded = new Set(files);
      if (errors.length === 0) for (const d of c.disks) expect(uploaded.has(d.file) || spec.disks.find((x) => x.name === d.name)?.media === 'cdrom', `${d.file} to upload`).toBe(true);
      const devices = asArray(config['deviceChange']).map((x) => xsiType((x as Node)['device']) ?? '');
      const nics = devices.filter((t) => /E1000|Vmxnet|PCNet/i.test(t));
      if (errors.length === 0) expect(devices.filter((t) => t === 'VirtualDisk').length).toBe(spec.disks.filter((d) => d.media === 'disk').length);
      expect(nics.length).toBe(spec.networks.length);
    });
  }
});
