/**
 * Golden tests: spec → libvirt domain XML. Each case is
 * test/golden/libvirt/NAME.spec.yaml (the spec) + NAME.xml (the XML it
 * builds); options beyond the defaults are in OPTIONS below.
 * `UPDATE_GOLDEN=1 npx vitest run --project unit src/drivers/libvirt/domain-xml.test.ts`
 * rewrites them; review the diff. Every XML is checked against libvirt's own
 * schema with `virt-xml-validate FILE domain`, and read back into its spec.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPolyvisorError, run } from '../../shared/index.js';
import { parseSpecText, validateSpec, type VmSpec, type VmSpecInput } from '../../spec/index.js';
import { domainXml, type DomainXmlOptions } from './domain-xml.js';
import { readDomainXml } from './domain-xml-read.js';

const GOLDEN = path.resolve(import.meta.dirname, '..', '..', '..', 'test', 'golden', 'libvirt');
const ID = '0b6f7c1e-5d2a-4c8e-9f3b-7a1d2e3f4a5b';
const DIR = `/var/lib/polyvisor/libvirt/${ID}`;

const OPTIONS: Record<string, Partial<DomainXmlOptions>> = {
  uefi: { nvramPath: `${DIR}/nvram.fd` },
  'uefi-custom-ovmf': { ovmf: { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/usr/share/OVMF/OVMF_VARS.fd' } },
  'disk-formats-probed': { diskFormats: { root: 'raw' }, diskPaths: { scratch: `${DIR}/scratch.raw` } },
  'port-forwards-passt': { passt: true },
  'vnc-socket': { vncSocket: `${DIR}/vnc.sock` },
  'serial-pty-log': { serialSocket: undefined, serialLog: `${DIR}/serial.log` },
  'cloud-init': { cloudInitSeed: `${DIR}/cidata.iso` },
  'cloud-init-pc': { cloudInitSeed: `${DIR}/cidata.iso` },
  'accel-auto-probed-tcg': { domainType: 'qemu' },
  nics: { agentSocket: `${DIR}/agent.sock` },
  'cpu-named-tcg': { emulator: '/usr/local/bin/qemu-system-x86_64' },
};

function optionsFor(name: string, spec: VmSpec): DomainXmlOptions {
  const extra = OPTIONS[name] ?? {};
  const diskPaths = Object.fromEntries(spec.disks.map((d) => [d.name, d.path ?? `${DIR}/${d.name}.qcow2`]));
  return { uuid: ID, serialSocket: `${DIR}/serial.sock`, ...extra, diskPaths: { ...diskPaths, ...extra.diskPaths } };
}

const cases = readdirSync(GOLDEN).filter((f) => f.endsWith('.spec.yaml')).map((f) => f.slice(0, -'.spec.yaml'.length)).sort();
const built = new Map<string, { spec: VmSpec; xml: string; options: DomainXmlOptions }>();
function build(name: string): { spec: VmSpec; xml: string; options: DomainXmlOptions } {
  let b = built.get(name);
  if (b === undefined) {
    const spec = parseSpecText(readFileSync(path.join(GOLDEN, `${name}.spec.yaml`), 'utf8'));
    const options = optionsFor(name, spec);
    b = { spec, options, xml: domainXml(spec, options) };
    built.set(name, b);
  }
  return b;
}

describe('domainXml golden files', () => {
  it('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  for (const name of cases) {
    it(name, async () => {
      const { xml } = build(name);
      const file = path.join(GOLDEN, `${name}.xml`);
      if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(file)) writeFileSync(file, xml);
      expect(xml).toBe(readFileSync(file, 'utf8'));
      const v = await run('virt-xml-validate', [file, 'domain'], { timeoutMs: 30_000 });
      expect(`${v.stdout}${v.stderr}`.trim()).toBe(`${file} validates`);
      expect(v.code).toBe(0);
    });
  }
});

describe('round trip: readDomainXml(domainXml(spec)) gives the spec back', () => {
  for (const name of cases) {
    it(name, () => {
      const { spec, xml, options } = build(name);
      const back = readDomainXml(xml);
      expect(back.spec).toEqual(spec);
      expect(back.lossy).toEqual([]);
      expect(back.uuid).toBe(ID);
      expect(back.diskPaths).toEqual(Object.fromEntries(spec.disks.map((d) => [d.name, options.diskPaths[d.name]])));
    });
  }
});

function specInvalid(input: VmSpecInput, o: Partial<DomainXmlOptions> = {}): { field: string; message: string } {
  const spec = validateSpec(input);
  try {
    domainXml(spec, { uuid: ID, diskPaths: {}, ...o });
  } catch (err) {
    if (!isPolyvisorError(err, 'SPEC_INVALID')) throw err;
    const [problem] = err.details as Array<{ field: string; message: string }>;
    return problem!;
  }
  throw new Error('domainXml did not refuse the spec');
}

describe('what libvirt XML cannot say is SPEC_INVALID naming the field', () => {
  const kernel = { kernel: '/srv/vmlinuz' };

  it('port forwards without a libvirt that takes passt', () => {
    const p = specInvalid({ name: 'f', boot: kernel, networks: [{ name: 'a' }, { name: 'b', portForwards: [{ hostPort: 2222, guestPort: 22 }] }] });
    expect(p.field).toBe('networks.1.portForwards');
    expect(p.message).toMatch(/passt/);
  });

  it('an encrypted disk (dropping encrypt would write the guest\'s data in clear)', () => {
    const p = specInvalid({ name: 'e', boot: kernel, disks: [{ name: 'a', size: '1G' }, { name: 'b', size: '1G', encrypt: true }] }, { diskPaths: { a: '/x/a.qcow2', b: '/x/b.qcow2' } });
    expect(p.field).toBe('disks.1.encrypt');
  });

  it('a restricted user-mode NIC (dropping it would open the host loopback to the guest)', () => {
    const p = specInvalid({ name: 'r', boot: kernel, networks: [{ name: 'a', restrict: true }] }, { passt: true });
    expect(p.field).toBe('networks.0.restrict');
  });

  it('cpu model host on a qemu (TCG) domain', () => {
    expect(specInvalid({ name: 'h', boot: kernel, cpu: { model: 'host' } }, { domainType: 'qemu' }).field).toBe('cpu.model');
  });

  it('more IDE devices than machine pc has', () => {
    const disks = Array.from({ length: 5 }, (_, i) => ({ name: `d${i}`, path: `/srv/d${i}.qcow2`, bus: 'sata' as const }));
    const p = specInvalid({ name: 'many', machine: { type: 'pc' }, disks });
    expect(p).toEqual({ field: 'disks.4.bus', message: expect.stringMatching(/4 IDE units/) });
  });

  it('an image format other than qcow2 or raw', () => {
    const p = specInvalid({ name: 'v', disks: [{ name: 'root', path: '/srv/x.vmdk' }] }, { diskFormats: { root: 'vmdk' } });
    expect(p.field).toBe('disks.0.format');
  });

  it('memory that is not a whole number of KiB', () => {
    const p = specInvalid({ name: 'm', boot: kernel, memory: `${256 * 1024 * 1024 + 1}` });
    expect(p.field).toBe('memory');
    expect(p.message).toMatch(/reads back as 268436480/);
  });

  it('a description with control characters XML cannot hold', () => {
    expect(specInvalid({ name: 'c', boot: kernel, description: 'bell\u0007' }).field).toBe('description');
  });
});

describe('domainXml', () => {
  it('is pure: the same spec and options give the same text', () => {
    const { spec, options, xml } = build('bios-sata-cdrom');
    expect(domainXml(spec, options)).toBe(xml);
  });

  it('keeps memory exact in KiB and picks the domain type from accel', () => {
    const { xml } = build('odd-memory');
    expect(xml).toContain("<memory unit='KiB'>262084</memory>");
    expect(xml).toContain("<domain type='qemu'>");
    expect(build('accel-auto').xml).toContain("<domain type='kvm'>");
    expect(build('accel-auto-probed-tcg').xml).toContain("<domain type='qemu'>");
  });

  it('listens for VNC on a unix socket or 127.0.0.1 only', () => {
    for (const name of cases) {
      const listens = [...build(name).xml.matchAll(/<listen type='(\w+)'(?: address='([^']*)')?/g)];
      for (const l of listens) expect(l[1] === 'socket' || l[2] === '127.0.0.1').toBe(true);
    }
  });

  it('needs the seed ISO path for a spec with cloudInit', () => {
    const spec = validateSpec({ name: 'ci', boot: { kernel: '/k' }, cloudInit: {} });
    expect(() => domainXml(spec, { uuid: ID, diskPaths: {} })).toThrow(/cloudInitSeed/);
  });
});
