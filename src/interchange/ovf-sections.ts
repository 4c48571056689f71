/**
 * The OVF sections around the hardware: OperatingSystemSection → the spec's
 * os hint, ProductSection → a description, and a warning for every other
 * section a VirtualSystem carries that the spec has no place for. Pure.
 */
import type { VmSpecInput } from '../spec/index.js';
import type { Warnings } from './map-helpers.js';
import { osTypeOf } from './ovf-units.js';
import { childEls, childText, localName, type XmlElement } from './safe-xml.js';

/** An attribute by local name (ovf:id, vmw:osType → id, osType). */
export const attrOf = (e: XmlElement | undefined, name: string): string | undefined =>
  e === undefined ? undefined : Object.entries(e.attrs).find(([k]) => localName(k) === name && !k.startsWith('xmlns'))?.[1];

/** The VMware guest ids ovf-write.ts writes for an os type without a VMware variant. */
export const GENERIC_GUEST_IDS = new Set(['otherLinux64Guest', 'windows9_64Guest', 'otherGuest64']);

/** Printable ASCII, at most 128 characters (the spec's os.variant). */
const variantText = (s: string): string => s.replace(/[^\x20-\x7e]/g, '').slice(0, 128);

/** ovf:id (CIM OsType), vmw:osType, Description → {type, variant}. Generic ids (0 Unknown, 1 Other) without text give none. */
export function osFromOvf(section: XmlElement | undefined): VmSpecInput['os'] | undefined {
  if (section === undefined) return undefined;
  const id = attrOf(section, 'id') ?? '';
  const vmw = attrOf(section, 'osType');
  const description = childText(section, 'Description');
  // Polyvisor writes a variant that is no VMware guest id as the Description beside a generic vmw:osType.
  const named = vmw !== undefined && !GENERIC_GUEST_IDS.has(vmw) ? vmw : description ?? vmw;
  if (named === undefined && (id === '' || id === '0' || id === '1')) return undefined;
  const byId = /^\d+$/.test(id) ? osTypeOf(id) : 'other';
  const type = byId !== 'other' ? byId : osTypeOf(named ?? id);
  const variant = named === undefined ? undefined : variantText(named);
  return { type, ...(variant ? { variant } : {}) };
}

/** "Product Version (Vendor)" of the first ProductSection, or undefined. */
export function productDescription(section: XmlElement | undefined): string | undefined {
  if (section === undefined) return undefined;
  const parts = [childText(section, 'Product'), childText(section, 'FullVersion') ?? childText(section, 'Version')].filter((p): p is string => !!p);
  const vendor = childText(section, 'Vendor');
  if (parts.length === 0 && !vendor) return undefined;
  return `${parts.join(' ')}${vendor ? ` (${vendor})` : ''}`.trim();
}

/** Sections read elsewhere, or that only describe (Info, Name). */
const READ = new Set(['Info', 'Name', 'VirtualHardwareSection', 'OperatingSystemSection', 'AnnotationSection', 'Machine']);

/** A warning for each section of the VirtualSystem that is not carried over. */
export function sectionWarnings(vs: XmlElement, path: string, w: Warnings): void {
  let products = 0;
  for (const c of vs.children) {
    const name = localName(c.name);
    if (READ.has(name)) continue;
    if (name === 'ProductSection') {
      products++;
      for (const p of [...childEls(c, 'Property'), ...childEls(c, 'Category').flatMap((cat) => childEls(cat, 'Property'))]) {
        w.add(`${path}/ProductSection/Property[${attrOf(p, 'key') ?? ''}]`, `the vApp property ${attrOf(p, 'key') ?? ''}${attrOf(p, 'value') !== undefined ? ` = ${attrOf(p, 'value')}` : ''} is not kept (cloud-init user-data is the spec's way to pass settings)`);
      }
      if (products > 1) w.add(`${path}/ProductSection[${products}]`, 'only the first ProductSection becomes the description');
      continue;
    }
    if (name === 'EulaSection') {
      w.add(`${path}/EulaSection`, 'the licence agreement is neither shown nor kept: read it in the descriptor before use');
      continue;
    }
    w.add(`${path}/${c.name}`, `<${c.name}> is not carried over`);
  }
}
