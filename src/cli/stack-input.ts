/**
 * Reading a stack file for the daemon: YAML or JSON, each VM member's
 * `from: FILE` (relative to the stack file) read and put inline as `spec`,
 * `--var k=v` and `--var-file FILE` (a YAML/JSON mapping; --var wins). The
 * daemon validates everything else.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fail } from '../shared/index.js';
import type { StackRequest } from '../spec/index.js';
import { readSpecDocument } from './spec-input.js';

export const DEFAULT_STACK_FILE = 'polyvisor.yaml';

export interface StackInputFlags {
  var?: string[];
  varFile?: string[];
}

/** `k=v` into [k, v]. */
export function parseVarArg(arg: string): [string, string] {
  const i = arg.indexOf('=');
  if (i <= 0) fail('INVALID_ARGUMENT', `--var ${JSON.stringify(arg)}: write it as NAME=VALUE`);
  return [arg.slice(0, i), arg.slice(i + 1)];
}

async function readDoc(file: string): Promise<Record<string, unknown>> {
  try {
    return await readSpecDocument(file);
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (e.code === 'SPEC_PARSE_FAILED' || e.code === 'SPEC_INVALID') fail('STACK_INVALID', e.message.replace('(the VM spec)', ''));
    throw err;
  }
}

/** The request for the daemon: the stack document with every `from:` inlined, and the variable values. */
export async function readStackRequest(file: string, f: StackInputFlags = {}): Promise<StackRequest> {
  const doc = await readDoc(file);
  const dir = path.dirname(path.resolve(file));
  const vms = doc['vms'];
  if (typeof vms === 'object' && vms !== null && !Array.isArray(vms)) {
    for (const [member, m] of Object.entries(vms as Record<string, unknown>)) {
      if (typeof m !== 'object' || m === null) continue;
      const from = (m as Record<string, unknown>)['from'];
      if (typeof from !== 'string') continue;
      const at = path.resolve(dir, from);
      if (!existsSync(at)) fail('STACK_INVALID', `vms.${member}.from: ${from} (relative to ${file}) does not exist`);
      const { from: _f, ...rest } = m as Record<string, unknown>;
      (vms as Record<string, unknown>)[member] = { ...rest, spec: await readDoc(at) };
    }
  }
  const variables: Record<string, string> = {};
  for (const vf of f.varFile ?? []) {
    for (const [k, v] of Object.entries(await readDoc(vf))) {
      if (typeof v === 'object' && v !== null) fail('INVALID_ARGUMENT', `--var-file ${vf}: ${k} must be a plain value`);
      variables[k] = String(v);
    }
  }
  for (const a of f.var ?? []) {
    const [k, v] = parseVarArg(a);
    variables[k] = v;
  }
  return Object.keys(variables).length > 0 ? { document: doc, variables } : { document: doc };
}

/** A stack named by its file (when the argument is a file that exists) or by its name. */
export async function stackNameOf(arg: string | undefined): Promise<string> {
  const a = arg ?? DEFAULT_STACK_FILE;
  if (existsSync(a) && /\.(ya?ml|json)$/i.test(a)) {
    const name = (await readDoc(a))['name'];
    if (typeof name !== 'string') fail('STACK_INVALID', `${a} has no name:`);
    return name;
  }
  if (arg === undefined) fail('INVALID_ARGUMENT', `no ${DEFAULT_STACK_FILE} here: name the stack or its file`);
  return a;
}
