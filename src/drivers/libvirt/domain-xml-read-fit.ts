/** Whether a piece of a spec passes the spec's own validator (the reader keeps only what does). Pure. */
import { vmSpecSchema, type VmSpecInput } from '../../spec/index.js';

const BASE: VmSpecInput = { name: 'probe', boot: { kernel: '/probe' } };

export function fits(part: Partial<VmSpecInput>): boolean {
  return vmSpecSchema.safeParse({ ...BASE, ...part }).success;
}

/** A valid spec name from a libvirt name: other characters become "-", cut to 63. */
export function specName(raw: string, fallback: string): string {
  let n = raw.replace(/[^A-Za-z0-9_.-]/g, '-').replace(/\.{2,}/g, '.').replace(/^[^A-Za-z0-9]+/, '').slice(0, 63).replace(/\.+$/, '');
  if (n === '' || !fits({ name: n })) n = fallback;
  return n;
}
