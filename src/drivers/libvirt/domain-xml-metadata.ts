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
