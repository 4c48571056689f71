/**
 * From the stack file as written to the desired state: version checked,
 * variables substituted, the file validated, counted VMs expanded, each VM
 * spec validated with its path in the file, references checked, the graph
 * built. Every problem names its path (`vms.app.depends_on.0`). Pure.
 */
import { parse as parseYaml } from 'yaml';
import { fail, isPolyvisorError } from '../shared/index.js';
import { parseSize, problemsOf, validateSpec, type FieldProblem, type NetworkCreateRequest, type VmSpec } from '../spec/index.js';
import { buildGraph, type GraphNode, type StackGraph } from './graph.js';
import { STACK_LABEL, MEMBER_LABEL } from './ownership.js';
import { STACK_VERSION, stackFileSchema, type Readiness } from './schema.js';
import { interpolate } from './variables.js';

export interface DesiredVm {
  member: string;
  name: string;
  spec: VmSpec;
  ready: Readiness | undefined;
}

export interface DesiredNetwork {
  member: string;
  name: string;
  request: NetworkCreateRequest;
}

export interface DesiredVolume {
  member: string;
  name: string;
  pool: string;
  sizeBytes: number;
  format: 'qcow2' | 'raw';
}

export interface DesiredStack {
  name: string;
  description: string;
  concurrency: number;
  vms: DesiredVm[];
  networks: DesiredNetwork[];
  volumes: DesiredVolume[];
  graph: StackGraph;
}

const invalid = (problems: FieldProblem[]): never =>
  fail('STACK_INVALID', `invalid stack: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, { details: problems });

/** Parses the text of a stack file (YAML or JSON) into a document. */
export function parseStackText(text: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 50 });
  } catch (err) {
    fail('STACK_INVALID', `the stack file is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail('STACK_INVALID', 'the stack file must be a mapping (name:, vms:, networks:, volumes:)');
  return doc as Record<string, unknown>;
}

/** Replaces `{n}` in every string of `x` (a counted member's spec). */
function withIndex(x: unknown, n: number): unknown {
  if (typeof x === 'string') return x.replaceAll('{n}', String(n));
  if (Array.isArray(x)) return x.map((e) => withIndex(e, n));
  if (typeof x === 'object' && x !== null) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, withIndex(v, n)]));
  return x;
}

/** The desired state of the stack `doc` with the variable values `given`. Throws STACK_INVALID or STACK_CYCLE. */
export function resolveStack(doc: unknown, given: Record<string, string> = {}): DesiredStack {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail('STACK_INVALID', 'the stack must be a mapping (name:, vms:, networks:, volumes:)');
  const raw = doc as Record<string, unknown>;
  const version = raw['version'] ?? STACK_VERSION;
  if (version !== STACK_VERSION) {
    fail('STACK_INVALID', `stack file version ${JSON.stringify(version)} is not one this Polyvisor reads (${STACK_VERSION})`, { details: [{ field: 'version', message: `must be ${STACK_VERSION}` }] });
  }
  const parsed = stackFileSchema.safeParse(interpolate(raw, given));
  if (!parsed.success) invalid(problemsOf(parsed.error));
  const f = parsed.data!;
  const problems: FieldProblem[] = [];
  const kinds = new Map<string, GraphNode['kind']>();
  for (const [kind, names] of [['network', Object.keys(f.networks)], ['volume', Object.keys(f.volumes)], ['vm', Object.keys(f.vms)]] as const) {
    for (const m of names) {
      if (kinds.has(m)) problems.push({ field: `${kind}s.${m}`, message: `member name ${m} is also a ${kinds.get(m)}; members need distinct names` });
      kinds.set(m, kind);
    }
  }
  const nodes: GraphNode[] = [];
  const deps = (path: string, id: string, list: string[]): string[] => {
    list.forEach((d, i) => {
      if (!kinds.has(d)) problems.push({ field: `${path}.depends_on.${i}`, message: `${d} is not a member of the stack` });
      if (d === id) problems.push({ field: `${path}.depends_on.${i}`, message: `${id} cannot depend on itself` });
    });
    return list.filter((d) => kinds.has(d) && d !== id);
  };

  const vms: DesiredVm[] = [];
  const vmNames = new Map<string, string>();
  for (const [member, m] of Object.entries(f.vms)) {
    const path = `vms.${member}`;
    if (m.from !== undefined) {
      problems.push({ field: `${path}.from`, message: 'from: FILE is read by the CLI (relative to the stack file); send the spec inline' });
      continue;
    }
    const implicit = new Set<string>();
    const indexes = m.count === undefined ? [undefined] : Array.from({ length: m.count }, (_, i) => i + 1);
    for (const n of indexes) {
      const name = n === undefined ? (m.name ?? member) : (m.name ?? `${member}-{n}`).replaceAll('{n}', String(n));
      const at = n === undefined ? `${path}.spec` : `${path}.spec (VM ${name})`;
      const base = n === undefined ? m.spec! : (withIndex(m.spec, n) as Record<string, unknown>);
      if (base['name'] !== undefined && base['name'] !== name) {
        problems.push({ field: `${path}.spec.name`, message: `the VM's name comes from the member (${name}); leave spec.name out` });
        continue;
      }
      const labels = { ...((base['labels'] as Record<string, string> | undefined) ?? {}), ...f.labels, [STACK_LABEL]: f.name, [MEMBER_LABEL]: member };
      let spec: VmSpec;
      try {
        spec = validateSpec({ ...base, name, labels });
      } catch (err) {
        if (!isPolyvisorError(err)) throw err;
        const inner = Array.isArray(err.details) ? (err.details as FieldProblem[]) : [{ field: '(root)', message: err.message }];
        problems.push(...inner.map((p) => ({ field: `${at}.${p.field}`, message: p.message })));
        continue;
      }
      if (vmNames.has(name)) problems.push({ field: `${path}`, message: `VM name ${name} is also made by member ${vmNames.get(name)}` });
      vmNames.set(name, member);
      for (const nic of spec.networks) if (nic.network !== undefined && kinds.get(nic.network) === 'network') implicit.add(nic.network);
      vms.push({ member, name, spec, ready: m.ready });
    }
    nodes.push({ id: member, kind: 'vm', dependsOn: [...new Set([...deps(path, member, m.depends_on), ...implicit])] });
  }

  const networks: DesiredNetwork[] = Object.entries(f.networks).map(([name, n]) => {
    nodes.push({ id: name, kind: 'network', dependsOn: deps(`networks.${name}`, name, n.depends_on) });
    const { depends_on: _d, ...rest } = n;
    return { member: name, name, request: { name, ...rest } };
  });

  const volumes: DesiredVolume[] = [];
  for (const [name, v] of Object.entries(f.volumes)) {
    nodes.push({ id: name, kind: 'volume', dependsOn: deps(`volumes.${name}`, name, v.depends_on) });
    const sizeBytes = typeof v.size === 'number' ? v.size : parseSize(v.size);
    if (sizeBytes === undefined || sizeBytes < 1024 ** 2) {
      problems.push({ field: `volumes.${name}.size`, message: 'a size like 10Gi or 512Mi (at least 1 MiB)' });
      continue;
    }
    volumes.push({ member: name, name, pool: v.pool, sizeBytes, format: v.format });
  }

  if (problems.length > 0) invalid(problems);
  return { name: f.name, description: f.description, concurrency: f.concurrency, vms, networks, volumes, graph: buildGraph(nodes) };
}
