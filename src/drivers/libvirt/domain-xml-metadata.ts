/**
 * Polyvisor's own part of a domain's <metadata>, in its namespace so libvirt
 * keeps it through define/dumpxml: the spec's labels, its cloud-init section
 * (the seed ISO's content lives nowhere else in the XML), and hints: spec
 * values the XML says differently (accel "auto", boot.order kinds, a disk
 * created from a size…), each with the value the XML reads as, so a reader
 * applies a hint only while the XML still says what it said when written.
 * Pure.
 */
import type { CloudInitSpec, VmSpec } from '../../spec/index.js';
import { el, textEl, type XmlNode } from './domain-xml-node.js';
import type { XNode } from './domain-xml-parse.js';

export const POLYVISOR_NS = 'https://polyvisor.dev/xmlns/libvirt-domain/1';
export const POLYVISOR_PREFIX = 'polyvisor';

/** A spec value the XML expresses differently; values are JSON text, absent for undefined. */
export interface Hint {
  field: string;
  xml?: string;
  spec?: string;
}

export interface PolyvisorMetadata {
  labels: Record<string, string>;
  cloudInit?: CloudInitSpec;
  hints: Hint[];
}

const p = (name: string): string => `${POLYVISOR_PREFIX}:${name}`;

export function metadataElement(spec: VmSpec, hints: Hint[]): XmlNode {
  return el('metadata', {}, [el(p('vm'), { [`xmlns:${POLYVISOR_PREFIX}`]: POLYVISOR_NS }, [
    ...Object.keys(spec.labels).sort().map((k) => el(p('label'), { key: k, value: spec.labels[k] })),
    spec.cloudInit && cloudInitElement(spec.cloudInit),
    ...hints.map((h) => el(p('hint'), { field: h.field, xml: h.xml, spec: h.spec })),
  ])]);
}

function cloudInitElement(c: CloudInitSpec): XmlNode {
  return el(p('cloud-init'), { hostname: c.hostname, 'instance-id': c.instanceId }, [
    c.userData !== undefined && textEl(p('user-data'), c.userData),
    c.networkConfig !== undefined && textEl(p('network-config'), c.networkConfig),
    ...c.sshAuthorizedKeys.map((k) => textEl(p('ssh-authorized-key'), k)),
  ]);
}

const localName = (name: string): string => name.slice(name.indexOf(':') + 1);
const namespaceOf = (n: XNode): string | undefined => {
  const prefix = n.name.includes(':') ? n.name.slice(0, n.name.indexOf(':')) : undefined;
  return n.attrs[prefix === undefined ? 'xmlns' : `xmlns:${prefix}`];
};

/** Polyvisor's element of <metadata> (any prefix), or undefined; other namespaces' elements are listed as lossy. */
export function readMetadata(metadata: XNode | undefined, lossy: string[]): PolyvisorMetadata | undefined {
  let ours: PolyvisorMetadata | undefined;
  for (const m of metadata?.children ?? []) {
    const ns = namespaceOf(m);
    if (ns !== POLYVISOR_NS) {
      lossy.push(`<metadata> element <${m.name}> (namespace ${ns ?? 'none'}) is not kept`);
      continue;
    }
    ours = { labels: {}, hints: [] };
    for (const c of m.children) {
      const name = localName(c.name);
      if (name === 'label' && c.attrs['key'] !== undefined) ours.labels[c.attrs['key']] = c.attrs['value'] ?? '';
      if (name === 'hint' && c.attrs['field'] !== undefined) ours.hints.push({ field: c.attrs['field'], xml: c.attrs['xml'], spec: c.attrs['spec'] });
      if (name === 'cloud-init') ours.cloudInit = readCloudInit(c);
    }
  }
  return ours;
}

function readCloudInit(c: XNode): CloudInitSpec {
  const text = (name: string): string | undefined => c.children.find((k) => localName(k.name) === name)?.text;
  return {
    ...(c.attrs['hostname'] === undefined ? {} : { hostname: c.attrs['hostname'] }),
    ...(c.attrs['instance-id'] === undefined ? {} : { instanceId: c.attrs['instance-id'] }),
    ...(text('user-data') === undefined ? {} : { userData: text('user-data') }),
    ...(text('network-config') === undefined ? {} : { networkConfig: text('network-config') }),
    sshAuthorizedKeys: c.children.filter((k) => localName(k.name) === 'ssh-authorized-key').map((k) => k.text),
  };
}
