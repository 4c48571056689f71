import { parse as parseYaml } from 'yaml';
import { fail } from '../shared/index.js';
import { SPEC_VERSION, vmSpecSchema, type VmSpec } from './schema.js';

import { problemsOf } from './problems.js';
import { liftMemory, upgradeV1, userField, versionFor } from './spec-v2.js';

export { problemsOf, type FieldProblem } from './problems.js';

/**
 * Upgraders from older spec versions: upgraders[n] turns a version-n document
 * into a version-(n+1) one, so every stored older spec keeps loading.
 */
const upgraders: Record<number, (doc: Record<string, unknown>) => Record<string, unknown>> = { 1: upgradeV1 };

/** Brings a raw document to the current version, or throws SPEC_VERSION_UNSUPPORTED. */
export function upgradeSpec(doc: Record<string, unknown>): Record<string, unknown> {
  let version = doc['version'] ?? SPEC_VERSION;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    fail('SPEC_VERSION_UNSUPPORTED', `version ${JSON.stringify(version)} is not a spec version`);
  }
  if (version > SPEC_VERSION) {
    fail('SPEC_VERSION_UNSUPPORTED', `spec version ${version} is newer than this Polyvisor reads (${SPEC_VERSION})`);
  }
  let out = doc;
  while (version < SPEC_VERSION) {
    const step = upgraders[version];
    if (!step) fail('SPEC_VERSION_UNSUPPORTED', `no upgrade from spec version ${version}`);
    out = step(out);
    version += 1;
  }
  return { ...out, version: SPEC_VERSION };
}

/** Validates a parsed document (object) and returns the normalized spec. */
export function validateSpec(doc: unknown): VmSpec {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    fail('SPEC_INVALID', 'the spec must be an object (a YAML mapping or a JSON object)');
  }
  const upgraded = liftMemory(upgradeSpec(doc as Record<string, unknown>));
  const res = vmSpecSchema.safeParse(upgraded);
  if (!res.success) {
    const problems = problemsOf(res.error).map((p) => ({ ...p, field: userField(p.field) }));
    fail('SPEC_INVALID', `invalid spec: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`, {
      details: problems,
    });
  }
  return { ...res.data, version: versionFor(res.data) };
}

/** Parses YAML or JSON text (JSON is YAML) into a normalized spec. */
export function parseSpecText(text: string, overrides: { name?: string } = {}): VmSpec {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 50 });
  } catch (err) {
    fail('SPEC_PARSE_FAILED', `the spec is not valid YAML or JSON: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  if (doc === null || doc === undefined) doc = {};
  if (overrides.name !== undefined && typeof doc === 'object' && !Array.isArray(doc)) {
    doc = { ...(doc as object), name: overrides.name };
  }
  return validateSpec(doc);
}
