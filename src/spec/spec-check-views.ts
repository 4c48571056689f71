/**
 * POST /v1/specs/validate: what a create would say about a spec, without
 * creating anything. The problems are the ones a failed `POST /v1/vms` (and
 * `polyvisor spec validate`) lists, field by field.
 */
import type { VmSpec } from './schema.js';

/** The error code a create would answer for this problem. */
export const SPEC_CHECK_CODES = ['SPEC_INVALID', 'SPEC_VERSION_UNSUPPORTED', 'VM_EXISTS', 'PATH_NOT_ALLOWED', 'FILE_NOT_FOUND'] as const;
export type SpecCheckCode = (typeof SPEC_CHECK_CODES)[number];

export interface SpecProblem {
  /** The field as the spec names it (`memory`, `disks.0.size`, `boot.kernel`); `(root)` for the whole document. */
  field: string;
  message: string;
  code: SpecCheckCode;
}

export interface SpecCheckView {
  /** True when a create with this spec would pass every check made here. */
  valid: boolean;
  problems: SpecProblem[];
  /** The spec with every default applied, once it parses (also when a later check found a problem); else null. */
  spec: VmSpec | null;
}
