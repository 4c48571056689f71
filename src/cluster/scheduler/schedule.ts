/**
 * schedule() picks one host for one VM; explain() shows every host with each
 * filter's verdict and the score. Both scan every host given (explain is
 * what `polyvisor schedule explain VM` prints). Pure and deterministic: the
 * order of `hosts` does not matter.
 */
import { PolyvisorError } from '../../shared/index.js';
import { compileRequest, type CompiledRequest } from './compiled-request.js';
import { FILTERS } from './filters.js';
import { LiveHost, whereaboutsOf, type Whereabouts } from './live-host.js';
import { better, scoreContext, scoreHost, type ScoreContext } from './scores.js';
import { compareTiers, tierOf, tierText } from './tiers.js';
import type {
  ExplainRow, HostCandidate, PlacementRequest, Policy, Rejection, ScheduleResult, ScoreBreakdown, Verdict,
} from './types.js';

interface Evaluated {
  readonly host: LiveHost;
  readonly verdicts: Verdict[];
  score?: ScoreBreakdown;
}

/** Runs the filters on one host: every one (`all`) or up to the first rejection. */
export function runFilters(c: CompiledRequest, h: LiveHost, p: Policy, where: Whereabouts, all: boolean): Verdict[] {
  const out: Verdict[] = [];
  for (const [filter, fn] of FILTERS) {
    const reason = fn(c, h, p, where);
    out.push(reason === undefined ? { filter, pass: true } : { filter, pass: false, reason });
    if (reason !== undefined && !all) break;
  }
  return out;
}

const passed = (vs: readonly Verdict[]): boolean => vs.every((v) => v.pass);

/** Filters, tier and scores for every host; returns the rows and the chosen one. */
export function evaluate(
  c: CompiledRequest, hosts: readonly LiveHost[], p: Policy, where: Whereabouts, ctx: ScoreContext, all: boolean,
): { rows: Evaluated[]; chosen: Evaluated | undefined } {
  const rows: Evaluated[] = hosts.map((host) => ({ host, verdicts: runFilters(c, host, p, where, all) }));
  const fit = rows.filter((r) => passed(r.verdicts));
  let best: Evaluated | undefined;
  for (const r of fit) if (!best || compareTiers(tierOf(c, r.host), tierOf(c, best.host)) < 0) best = r;
  let chosen: Evaluated | undefined;
  for (const r of fit) {
    r.score = scoreHost(c, r.host, p, ctx);
    if (best && compareTiers(tierOf(c, r.host), tierOf(c, best.host)) > 0) {
      r.verdicts.push({ filter: 'tier', pass: false, reason: `${tierText(r.host)}: a better tier (${tierText(best.host)}) has a host that fits` });
      continue;
    }
    r.verdicts.push({ filter: 'tier', pass: true });
    if (!chosen || better({ name: r.host.name, total: r.score.total }, { name: chosen.host.name, total: chosen.score!.total })) chosen = r;
  }
  return { rows, chosen };
}

function prepare(request: PlacementRequest, hosts: readonly HostCandidate[], p: Policy) {
  const live = hosts.map((h) => new LiveHost(h));
  return { c: compileRequest(request, p), live, where: whereaboutsOf(live), ctx: scoreContext(live, p) };
}

export function schedule(request: PlacementRequest, hosts: readonly HostCandidate[], p: Policy): ScheduleResult {
  const { c, live, where, ctx } = prepare(request, hosts, p);
  const { rows, chosen } = evaluate(c, live, p, where, ctx, false);
  if (chosen) return { ok: true, vm: request.vm, host: chosen.host.name, score: chosen.score! };
  const rejected: Rejection[] = rows
    .map((r) => {
      const v = r.verdicts.find((x) => !x.pass);
      return { host: r.host.name, filter: v!.filter, reason: v && !v.pass ? v.reason : '' };
    })
    .sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  return { ok: false, vm: request.vm, code: 'NO_HOST_FITS', rejected };
}

/** Every host, every filter's verdict and the score of those that pass; the chosen host first, then by rank, then the rejected by name. */
export function explain(request: PlacementRequest, hosts: readonly HostCandidate[], p: Policy): ExplainRow[] {
  const { c, live, where, ctx } = prepare(request, hosts, p);
  const { rows, chosen } = evaluate(c, live, p, where, ctx, true);
  const rank = (r: Evaluated): number => (r === chosen ? 0 : r.score ? 1 : 2);
  const sorted = [...rows].sort((a, b) => {
    const d = rank(a) - rank(b);
    if (d !== 0) return d;
    if (a.score && b.score) {
      const t = compareTiers(tierOf(c, a.host), tierOf(c, b.host));
      if (t !== 0) return t;
      if (a.score.total !== b.score.total) return b.score.total - a.score.total;
    }
    return a.host.name < b.host.name ? -1 : a.host.name > b.host.name ? 1 : 0;
  });
  return sorted.map((r) => ({
    host: r.host.name,
    state: r.host.state,
    pool: r.host.pool,
    priority: r.host.priority,
    verdicts: r.verdicts,
    ...(r.score ? { score: r.score } : {}),
    chosen: r === chosen,
  }));
}

/** The catalogue error for a failed schedule(): counts by filter in the message, every host in details. */
export function noHostFitsError(result: Extract<ScheduleResult, { ok: false }>): PolyvisorError {
  const counts = new Map<string, number>();
  for (const r of result.rejected) counts.set(r.filter, (counts.get(r.filter) ?? 0) + 1);
  const summary = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([f, n]) => `${n} by ${f}`).join(', ');
  const n = result.rejected.length;
  return new PolyvisorError(
    'NO_HOST_FITS',
    n === 0 ? `no host fits VM ${result.vm}: the cluster has no hosts` : `no host fits VM ${result.vm}: ${n} host${n === 1 ? '' : 's'} rejected (${summary})`,
    { details: { vm: result.vm, rejected: result.rejected } },
  );
}
