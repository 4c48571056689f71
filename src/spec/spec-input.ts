/**
 * A normalized spec (sizes in bytes) in the form validateSpec reads back as the
 * same spec: `memory`, `memoryLayout.max.size` and each guest NUMA node's
 * `memory` as size text ("NKi"), since a bare number there means MiB. For a
 * stored or received spec that is checked again (a migration's target, a
 * reconfigure, hints re-applied, an interchange read). Tolerant of what is not
 * a spec yet (a peer's request body): what it does not recognise it leaves for
 * validateSpec to name. PURE.
 */
const ki = (v: unknown): unknown => (typeof v === 'number' ? `${Math.ceil(v / 1024)}Ki` : v);

export function specAsInput(spec: object): Record<string, unknown> {
  const s = spec as Record<string, unknown>;
  const lay = s['memoryLayout'] as { max?: { size?: unknown }; numa?: unknown } | undefined;
  if (typeof lay !== 'object' || lay === null) return { ...s, memory: ki(s['memory']) };
  const numa = Array.isArray(lay.numa) ? { numa: (lay.numa as Array<Record<string, unknown>>).map((n) => ({ ...n, memory: ki(n['memory']) })) } : {};
  const max = typeof lay.max === 'object' && lay.max !== null ? { max: { ...lay.max, size: ki(lay.max.size) } } : {};
  return { ...s, memory: ki(s['memory']), memoryLayout: { ...lay, ...numa, ...max } };
}
