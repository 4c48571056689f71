/** Mapping between rows of the `vms` table and VmRecord. */
import type { VmSpec, VmState } from '../../spec/index.js';
import { VM_STATES } from '../../spec/index.js';
import type { VmOwner, VmRecord, VmRuntimeRecord } from '../store.js';

export interface VmRow {
  id: string;
  name: string;
  spec: string;
  state: string;
  state_reason: string;
  host: string;
  runtime: string | null;
  owner: string | null;
  created_at: string;
  updated_at: string;
  generation: number;
}

export const VM_COLUMNS = 'id, name, spec, state, state_reason, host, runtime, owner, created_at, updated_at, generation';

const states: ReadonlySet<string> = new Set(VM_STATES);

/** A state written by our own code must be one we know: anything else is a bug. */
export function checkState(state: string): VmState {
  if (!states.has(state)) throw new Error(`store: unknown VM state ${JSON.stringify(state)}`);
  return state as VmState;
}

export function toRecord(row: VmRow): VmRecord {
  return {
    id: row.id,
    name: row.name,
    spec: JSON.parse(row.spec) as VmSpec,
    state: checkState(row.state),
    stateReason: row.state_reason,
    host: row.host,
    runtime: row.runtime === null ? null : (JSON.parse(row.runtime) as VmRuntimeRecord),
    ...(row.owner === null ? {} : { owner: JSON.parse(row.owner) as VmOwner }),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    generation: row.generation,
  };
}

export function toRow(rec: VmRecord): VmRow {
  return {
    id: rec.id,
    name: rec.name,
    spec: JSON.stringify(rec.spec),
    state: checkState(rec.state),
    state_reason: rec.stateReason,
    host: rec.host,
    runtime: rec.runtime === null ? null : JSON.stringify(rec.runtime),
    owner: rec.owner === undefined ? null : JSON.stringify(rec.owner),
    created_at: rec.createdAt,
    updated_at: rec.updatedAt,
    generation: rec.generation,
  };
}
