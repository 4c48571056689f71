/**
 * QEMU's "key=value,key=value" option syntax (QemuOpts / keyval). A comma
 * inside a value must be doubled; spec paths cannot contain commas today, but
 * every value that reaches an option string goes through optValue() anyway.
 */

export type OptValue = string | number | boolean | undefined;

/** Escapes one value for an option string: every "," becomes ",,". */
export function optValue(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  return String(v).replaceAll(',', ',,');
}

/**
 * `head,k1=v1,k2=v2`; undefined values are skipped; head (a driver or device
 * type) is written as is and must not come from the spec.
 */
export function opts(head: string | undefined, pairs: ReadonlyArray<readonly [string, OptValue]>): string {
  const parts = head === undefined ? [] : [head];
  for (const [k, v] of pairs) if (v !== undefined) parts.push(`${k}=${optValue(v)}`);
  return parts.join(',');
}
