/**
 * /stacks: the stacks applied on this host (their VM, network and volume
 * counts); `?stack=NAME` opens one: every member with its state, address and
 * readiness now, the dependency graph of its last applied file, and destroy
 * (asked first, naming what goes). Below, a stack file (YAML or JSON, with
 * variables) is planned — the plan as `polyvisor stack plan` prints it, and
 * its graph — before it can be applied (asked first), and the apply is
 * followed step by step. `from:` files are the CLI's: the browser sends the
 * document inline, as the API takes it.
 */
import { useEffect, useState, type FormEvent } from 'react';
import { parse } from 'yaml';
import { api, ApiError, enc, errorText } from '../../api/client.js';
import { useCan } from '../../api/store.js';
import { planIsEmpty, planText, type OperationView, type StackGraphView, type StackPlanView, type StackRequest, type StackStatusView, type StackSummaryView } from '../../api/types.js';
import { confirmAction } from '../../components/Confirm.js';
import { Link } from '../../components/Link.js';
import { toast } from '../../components/Toasts.js';
import { when } from '../../format.js';
import { navigate, useQuery } from '../../router.js';
import { reloadStacks, useStacks } from './data.js';
import { StackGraph } from './StackGraph.js';
import { StackRun } from './StackRun.js';

function Detail({ name }: { name: string }) {
  const [s, setS] = useState<StackStatusView | null>(null);
  const [error, setError] = useState('');
  const [run, setRun] = useState<string | null>(null);
  const mayWrite = useCan('vm:write');
  useEffect(() => {
    let live = true;
    const read = (): void => {
      api<StackStatusView>('GET', `/v1/stacks/${enc(name)}`).then((x) => { if (live) { setS(x); setError(''); } }, (e: unknown) => { if (live) setError(errorText(e)); });
    };
    read();
    const t = setInterval(read, 5_000); // states and readiness change
    return () => { live = false; clearInterval(t); };
  }, [name]);
  const destroy = async (): Promise<void> => {
    if (!s) return;
    const vms = s.members.filter((m) => m.kind === 'vm').map((m) => m.name);
    const others = s.members.filter((m) => m.kind !== 'vm').map((m) => `${m.kind} ${m.name}`);
    const ok = await confirmAction(`Destroy stack ${name}?`, (
      <p>Removes its VMs with their disks ({vms.join(', ') || 'none'}){others.length ? <>, and {others.join(', ')}</> : null}. Nothing outside the stack is touched.</p>
    ), 'Destroy');
    if (!ok) return;
    try {
      setRun((await api<OperationView>('DELETE', `/v1/stacks/${enc(name)}`)).id);
    } catch (err) {
      setError(errorText(err));
    }
  };
  if (error && !s) return <p className="error" role="alert" data-testid="stack-error">{error}</p>;
  if (!s) return <p className="muted">Reading {name}…</p>;
  const marks = Object.fromEntries(s.members.map((m) => [m.member, m.state]));
  return (
    <div className="card" data-testid="stack-detail" data-stack={name}>
      <div className="row wrap">
        <h2>{name}</h2>
        <span className="muted small">applied {when(s.appliedAt)}</span>
        {mayWrite && <button type="button" className="danger-outline" onClick={() => void destroy()} disabled={run !== null}>destroy</button>}
      </div>
      {error && <p className="error" role="alert" data-testid="stack-error">{error}</p>}
      <h3>Members</h3>
      <div className="table-wrap" tabIndex={0} role="region" aria-label={`Members of ${name}`}><table className="table" data-testid="stack-members">
        <thead><tr><th>Kind</th><th>Name</th><th>Member</th><th>State</th><th>Address</th><th>Readiness</th></tr></thead>
        <tbody>{s.members.map((m) => (
          <tr key={`${m.kind}/${m.name}`} data-name={m.name} data-state={m.state}>
            <td>{m.kind}</td>
            <td>{m.kind === 'vm' && m.state !== 'missing' ? <Link to={`/vms/${enc(m.name)}`}>{m.name}</Link> : m.kind === 'network' ? <Link to={`/networks?network=${enc(m.name)}`}>{m.name}</Link> : m.name}</td>
            <td>{m.member}</td>
            <td>{m.state}</td>
            <td className="num small">{m.address ?? '—'}</td>
            <td className="small" data-testid="readiness">{m.readiness}</td>
          </tr>
        ))}</tbody>
      </table></div>
      <h3>Dependency order</h3>
      <StackGraph order={s.order} edges={s.edges} marks={marks} label={`Dependency order of ${name}`} />
      {run && <StackRun id={run} onEnd={(op) => {
        void reloadStacks();
        if (op.status === 'succeeded') {
          toast(`stack ${name} destroyed`);
          navigate('/stacks');
        }
      }} />}
    </div>
  );
}

/** `k=v` lines into the variables of a request. */
function variablesOf(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n').map((l) => l.trim()).filter(Boolean)) {
    const i = line.indexOf('=');
    if (i <= 0) throw new Error(`variables: "${line}" is not name=value`);
    out[line.slice(0, i).trim()] = line.slice(i + 1);
  }
  return out;
}

function PlanAndApply() {
  const [file, setFile] = useState('');
  const [vars, setVars] = useState('');
  const [plan, setPlan] = useState<{ req: StackRequest; plan: StackPlanView; graph: StackGraphView } | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [run, setRun] = useState<string | null>(null);
  const mayWrite = useCan('vm:write');
  const doPlan = async (e: FormEvent): Promise<void> => {
    e.preventDefault();
    setBusy(true);
    setError('');
    setPlan(null);
    setRun(null);
    try {
      const req: StackRequest = { document: parse(file) as unknown, variables: variablesOf(vars) };
      const [p, g] = await Promise.all([api<StackPlanView>('POST', '/v1/stacks/plan', req), api<StackGraphView>('POST', '/v1/stacks/graph', req)]);
      setPlan({ req, plan: p, graph: g });
    } catch (err) {
      setError(err instanceof ApiError && err.fields.length ? err.fields.map((x) => `${x.field}: ${x.message}`).join('; ') : errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const apply = async (): Promise<void> => {
    if (!plan) return;
    const ok = await confirmAction(`Apply this plan to stack ${plan.plan.stack}?`, <pre className="small">{planText(plan.plan)}</pre>, 'Apply');
    if (!ok) return;
    setError('');
    try {
      setRun((await api<OperationView>('POST', '/v1/stacks/apply', plan.req)).id);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form className="card create" aria-label="Plan a stack file" onSubmit={(e) => void doPlan(e)}>
      <h2>Plan a stack file</h2>
      <p className="muted small">Paste a stack file (docs/stacks.md). The plan shows what applying it would do; nothing changes until you apply.</p>
      <div className="field"><label htmlFor="stack-file">Stack file (YAML or JSON)</label><textarea id="stack-file" name="file" rows={12} spellCheck={false} required value={file} onChange={(e) => setFile(e.target.value)} /></div>
      <div className="field"><label htmlFor="stack-vars">Variables (name=value, one a line)</label><textarea id="stack-vars" name="variables" rows={2} spellCheck={false} value={vars} onChange={(e) => setVars(e.target.value)} /></div>
      {error && <p className="error" role="alert" data-testid="plan-error">{error}</p>}
      <div className="row end"><button type="submit" disabled={busy}>Plan</button></div>
      {plan && <>
        <h3>Plan</h3>
        <pre className="small" data-testid="stack-plan">{planText(plan.plan)}</pre>
        <h3>Dependency order</h3>
        <StackGraph order={plan.graph.order} edges={plan.graph.edges} label={`Dependency order of ${plan.plan.stack}`} />
        {mayWrite && <div className="row end"><button type="button" className="primary" disabled={planIsEmpty(plan.plan) || run !== null} onClick={() => void apply()}>Apply</button></div>}
      </>}
      {run && <StackRun id={run} onEnd={(op) => {
        void reloadStacks();
        if (op.status === 'succeeded' && plan) navigate(`/stacks?stack=${enc(plan.plan.stack)}`);
      }} />}
    </form>
  );
}

export default function StacksPage() {
  const d = useStacks();
  const only = useQuery('stack');
  return (
    <section aria-labelledby="stacks-title">
      <h1 id="stacks-title">Stacks</h1>
      <p className="muted small">Environments of VMs, networks and volumes described in one file and applied in dependency order (<code>polyvisor up</code>; docs/stacks.md).</p>
      {d.loaded === null && <p className="muted">This daemon has no stacks API.</p>}
      {d.error && <p className="error" role="alert">{d.error}</p>}
      <div className="card">
        <h2>Stacks</h2>
        {d.stacks.length === 0 && d.loaded ? <p className="muted" data-testid="no-stacks">None yet: plan and apply a stack file below.</p> : (
          <div className="table-wrap" tabIndex={0} role="region" aria-label="Stacks table"><table className="table" data-testid="stacks">
            <thead><tr><th>Name</th><th className="r">VMs</th><th className="r">Networks</th><th className="r">Volumes</th><th>Applied</th></tr></thead>
            <tbody>{d.stacks.map((s: StackSummaryView) => (
              <tr key={s.stack} data-stack={s.stack} aria-current={only === s.stack ? 'true' : undefined}>
                <td><Link to={`/stacks?stack=${enc(s.stack)}`}>{s.stack}</Link></td>
                <td className="r num">{s.vms}</td><td className="r num">{s.networks}</td><td className="r num">{s.volumes}</td>
                <td className="small">{when(s.appliedAt)}</td>
              </tr>
            ))}</tbody>
          </table></div>
        )}
      </div>
      {only && <Detail key={only} name={only} />}
      <PlanAndApply />
    </section>
  );
}
