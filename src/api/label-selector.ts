/** Label selectors (`env=test,app=web`): every label must match, as Kubernetes' and Incus' equality selectors. */
import { fail } from '../shared/index.js';

/** Parses a selector from a query string (one value or several) or a body field; undefined stays undefined. */
export function parseLabelSelector(q: unknown): Record<string, string> | undefined {
  if (q === undefined) return undefined;
  const items = (Array.isArray(q) ? q : [q]).flatMap((s) => String(s).split(','));
  const out: Record<string, string> = {};
  for (const item of items) {
    const m = /^([a-z0-9][a-z0-9._/-]{0,62})=([A-Za-z0-9._-]{0,63})$/.exec(item.trim());
    if (!m) fail('INVALID_ARGUMENT', `label selector ${JSON.stringify(item)} must look like key=value`);
    out[m[1]!] = m[2]!;
  }
  return out;
}
