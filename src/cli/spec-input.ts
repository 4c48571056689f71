/** Builds the spec document for `vm create` from a file and/or flags (the daemon validates it). */
import { readFileSync } from 'node:fs';
import type { parse as YamlParse } from 'yaml';
import { fail, validateAbsolutePath } from '../shared/index.js';
import { nicFromFlag } from './network-flag.js';

export interface CreateFlags {
  from?: string;
  cpus?: string;
  memory?: string;
  kernel?: string;
  initrd?: string;
  append?: string;
  disk?: string[];
  label?: string[];
  forward?: string[];
  network?: string[];
}

export async function specDocument(name: string, f: CreateFlags, readStdin: () => string = () => readFileSync(0, 'utf8')): Promise<Record<string, unknown>> {
  let doc = f.from ? await readSpecDocument(f.from, readStdin) : {};
  doc = { ...doc, name };
  if (f.cpus !== undefined) doc['cpu'] = { ...(doc['cpu'] as object), count: Number(f.cpus) };
  if (f.memory !== undefined) doc['memory'] = /^\d+$/.test(f.memory) ? Number(f.memory) : f.memory;
  if (f.kernel !== undefined || f.initrd !== undefined || f.append !== undefined) {
    const boot = { ...(doc['boot'] as object) } as Record<string, unknown>;
    if (f.kernel !== undefined) boot['kernel'] = validateAbsolutePath(f.kernel, '--kernel');
    if (f.initrd !== undefined) boot['initrd'] = validateAbsolutePath(f.initrd, '--initrd');
    if (f.append !== undefined) boot['cmdline'] = f.append;
    doc['boot'] = boot;
  }
  if (f.disk?.length) {
    const disks = [...((doc['disks'] as unknown[]) ?? [])];
    f.disk.forEach((p, i) => disks.push({ name: `disk${disks.length + i}`, path: validateAbsolutePath(p, '--disk') }));
    doc['disks'] = disks;
  }
  if (f.label?.length) {
    const labels = { ...(doc['labels'] as object) } as Record<string, string>;
    for (const l of f.label) {
      const i = l.indexOf('=');
      if (i <= 0) fail('INVALID_ARGUMENT', `--label ${JSON.stringify(l)} must look like key=value`);
      labels[l.slice(0, i)] = l.slice(i + 1);
    }
    doc['labels'] = labels;
  }
  if (f.forward?.length) {
    const forwards = f.forward.map((fw) => {
      const m = /^(?:(tcp|udp):)?(?:(\d+\.\d+\.\d+\.\d+):)?(\d+):(\d+)$/.exec(fw);
      if (!m) fail('INVALID_ARGUMENT', `--forward ${JSON.stringify(fw)} must look like [tcp:][ADDR:]HOSTPORT:GUESTPORT`);
      return { protocol: m[1] ?? 'tcp', ...(m[2] ? { hostAddress: m[2] } : {}), hostPort: Number(m[3]), guestPort: Number(m[4]) };
    });
    doc['networks'] = [{ name: 'net0', portForwards: forwards }];
  }
  if (f.network?.length) {
    const nics = [...((doc['networks'] as unknown[]) ?? [])];
    const base = nics.length;
    f.network.forEach((n, i) => nics.push(nicFromFlag(n, base + i)));
    doc['networks'] = nics;
  }
  return doc;
}

/** Reads a YAML/JSON spec file ("-" for stdin) into a plain document. */
export async function readSpecDocument(from: string, readStdin: () => string = () => readFileSync(0, 'utf8')): Promise<Record<string, unknown>> {
  // Loaded only by the commands that read specs. yaml is CommonJS: its exports are `default`, both
  // under Node and in the CLI bundle (scripts/build-cli.mjs), which has no named exports for it.
  const parseYaml = ((await import('yaml')) as unknown as { default: { parse: typeof YamlParse } }).default.parse;
  let text: string;
  try {
    text = from === '-' ? readStdin() : readFileSync(from, 'utf8');
  } catch (err) {
    fail('FILE_NOT_FOUND', `cannot read ${from}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text, { maxAliasCount: 50 });
  } catch (err) {
    fail('SPEC_PARSE_FAILED', `${from} is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) fail('SPEC_INVALID', `${from} must hold a mapping (the VM spec)`);
  return parsed as Record<string, unknown>;
}
