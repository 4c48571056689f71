/**
 * The cluster Store on etcd: VMs, meta, tokens and audit as JSON values under
 * one key prefix. Compare-and-set is an etcd transaction compared on the
 * key's mod_revision (the `generation` inside the value is bumped with it);
 * a name is taken with `create_revision == 0`. Every call is bounded by the
 * connection's timeout: with no quorum it fails with STORE_UNAVAILABLE.
 */
import { PolyvisorError, fail } from '../../shared/index.js';
import { VM_STATES, type AuditView, type VmState } from '../../spec/index.js';
import type { AuditEntry, AuditFilter, AuditStore, MetaStore, Store, TokenRecord, TokenStore, VmFilter, VmPatch, VmRecord } from '../store.js';
import type { NetworkPatch, NetworkRecord, NetworkStore, NicAllocation, NicAllocationFilter } from '../network-store.js';
import { EtcdKv } from './etcd-kv.js';
import { DEFAULT_PREFIX, keysUnder, type Keys } from './keys.js';
import { EtcdNetworkRecords } from './network-records.js';
import { EtcdTokenAudit } from './token-audit.js';
import type { EtcdConnection } from './transport.js';

export interface EtcdStoreOptions extends EtcdConnection {
  /** Key prefix of this installation (default /polyvisor/v1/). */
  prefix?: string;
}

export interface EtcdStore extends Store, MetaStore, TokenStore, AuditStore, NetworkStore {
  /** Networks in this store span the cluster's members (a VNI each). */
  readonly spansHosts: true;
  /** The client the store uses: also the ClusterKv for leases and election. */
  readonly kv: EtcdKv;
  readonly keys: Keys;
}

/** Optimistic read-compare-write rounds before giving up under contention. */
const CAS_ROUNDS = 50;
const states: ReadonlySet<string> = new Set(VM_STATES);

function checkState(state: string): VmState {
  if (!states.has(state)) throw new Error(`store: unknown VM state ${JSON.stringify(state)}`);
  return state as VmState;
}

export function openEtcdStore(opts: EtcdStoreOptions): EtcdStore {
  return new EtcdStoreImpl(new EtcdKv(opts), keysUnder(opts.prefix ?? DEFAULT_PREFIX));
}

class EtcdStoreImpl implements EtcdStore {
  private readonly tables: EtcdTokenAudit;
  private readonly networks: EtcdNetworkRecords;
  readonly spansHosts = true;

  constructor(
    readonly kv: EtcdKv,
    readonly keys: Keys,
  ) {
    this.tables = new EtcdTokenAudit(kv, keys);
    this.networks = new EtcdNetworkRecords(kv, keys);
  }

  async createVm(input: Omit<VmRecord, 'createdAt' | 'updatedAt' | 'generation'>): Promise<VmRecord> {
    const now = new Date().toISOString();
    const rec: VmRecord = { ...input, createdAt: now, updatedAt: now, generation: 1 };
    checkState(rec.state);
    const key = this.keys.vm(rec.name);
    const idKey = this.keys.vmId(rec.id);
    let r: Awaited<ReturnType<EtcdKv['txn']>>;
    try {
      r = await this.kv.txn(
        [{ key, target: 'create', op: '=', value: 0 }, { key: idKey, target: 'create', op: '=', value: 0 }],
        [{ put: key, value: JSON.stringify(rec) }, { put: idKey, value: rec.name }],
        [{ get: key }],
      );
    } catch (err) {
      // No answer is not "not written": a leader killed after committing the transaction loses only the answer. The
      // id is new, so its key exists exactly when this transaction was applied: look once more before failing (the
      // caller then removes the VM's files, which would leave a record without them).
      if (err instanceof PolyvisorError && err.code === 'STORE_UNAVAILABLE' && (await this.appliedAfterAll(idKey, rec.name))) return rec;
      throw err;
    }
    if (!r.succeeded) {
      if ((r.gets[0] ?? []).length > 0) fail('VM_EXISTS', `a VM named ${rec.name} already exists`);
      throw new Error(`store: duplicate VM id ${rec.id}`);
    }
    return rec;
  }

  /** Whether `key` holds `value`, asked again for up to one store timeout while the store elects a leader; false if unknown. */
  private async appliedAfterAll(key: string, value: string): Promise<boolean> {
    const end = Date.now() + this.kv.transport.timeoutMs;
    for (let left = end - Date.now(); left > 0; left = end - Date.now()) {
      try {
        return (await this.kv.get(key, { signal: AbortSignal.timeout(left) }))?.value === value;
      } catch {
        await new Promise((r) => setTimeout(r, Math.min(250, Math.max(0, end - Date.now()))));
      }
    }
    return false;
  }

  async getVm(name: string): Promise<VmRecord | undefined> {
    const kv = await this.kv.get(this.keys.vm(name));
    return kv === undefined ? undefined : (JSON.parse(kv.value) as VmRecord);
  }

  async listVms(filter: VmFilter = {}): Promise<VmRecord[]> {
    const { kvs } = await this.kv.range(this.keys.vms, { prefix: true });
    const labels = Object.entries(filter.labels ?? {});
    return kvs
      .map((kv) => JSON.parse(kv.value) as VmRecord)
      .filter((r) => filter.host === undefined || r.host === filter.host)
      .filter((r) => labels.every(([k, v]) => Object.hasOwn(r.spec.labels ?? {}, k) && r.spec.labels?.[k] === v));
  }

  async updateVm(name: string, patch: VmPatch, expectGeneration?: number): Promise<VmRecord> {
    const key = this.keys.vm(name);
    if (patch.state !== undefined) checkState(patch.state);
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const kv = await this.kv.get(key);
      if (kv === undefined) fail('VM_NOT_FOUND', `no VM named ${name}`);
      const cur = JSON.parse(kv.value) as VmRecord;
      if (expectGeneration !== undefined && cur.generation !== expectGeneration) {
        throw new PolyvisorError('VM_BUSY', `VM ${name} changed while this operation ran (generation ${cur.generation}, expected ${expectGeneration})`);
      }
      const next: VmRecord = { ...cur, updatedAt: new Date().toISOString(), generation: cur.generation + 1 };
      if (patch.spec !== undefined) next.spec = patch.spec;
      if (patch.state !== undefined) next.state = patch.state;
      if (patch.stateReason !== undefined) next.stateReason = patch.stateReason;
      if (patch.host !== undefined) next.host = patch.host;
      if (patch.runtime !== undefined) next.runtime = patch.runtime;
      const r = await this.kv.txn([{ key, target: 'mod', op: '=', value: kv.modRevision }], [{ put: key, value: JSON.stringify(next) }]);
      if (r.succeeded) return next;
      // Someone else wrote in between: with a generation to honour that is a lost race; without, read again.
    }
    throw new PolyvisorError('VM_BUSY', `VM ${name} kept changing under ${CAS_ROUNDS} attempts to update it`);
  }

  async deleteVm(name: string): Promise<void> {
    const key = this.keys.vm(name);
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const kv = await this.kv.get(key);
      if (kv === undefined) fail('VM_NOT_FOUND', `no VM named ${name}`);
      const { id } = JSON.parse(kv.value) as VmRecord;
      const r = await this.kv.txn([{ key, target: 'mod', op: '=', value: kv.modRevision }], [{ delete: key }, { delete: this.keys.vmId(id) }]);
      if (r.succeeded) return;
    }
    throw new PolyvisorError('VM_BUSY', `VM ${name} kept changing under ${CAS_ROUNDS} attempts to delete it`);
  }

  async getMeta(key: string): Promise<string | undefined> {
    return (await this.kv.get(this.keys.meta(key)))?.value;
  }

  async setMeta(key: string, value: string): Promise<void> {
    await this.kv.put(this.keys.meta(key), value);
  }

  async initMeta(key: string, value: string): Promise<string> {
    const k = this.keys.meta(key);
    const r = await this.kv.txn([{ key: k, target: 'create', op: '=', value: 0 }], [{ put: k, value }], [{ get: k }]);
    if (r.succeeded) return value;
    const stored = r.gets[0]?.[0];
    if (stored === undefined) throw new Error(`store: meta ${key} vanished inside a transaction`);
    return stored.value;
  }

  createToken(rec: Omit<TokenRecord, 'createdAt' | 'lastUsedAt' | 'expiresAt'> & { expiresAt?: string | null }): Promise<TokenRecord> { return this.tables.createToken(rec); }
  findTokenByHash(hash: string): Promise<TokenRecord | undefined> { return this.tables.findTokenByHash(hash); }
  listTokens(): Promise<TokenRecord[]> { return this.tables.listTokens(); }
  deleteToken(name: string): Promise<void> { return this.tables.deleteToken(name); }
  touchToken(name: string, at: string): Promise<void> { return this.tables.touchToken(name, at); }
  appendAudit(e: AuditEntry): Promise<void> { return this.tables.appendAudit(e); }
  listAudit(f?: AuditFilter): Promise<AuditView[]> { return this.tables.listAudit(f); }
  auditOlderThan(before: string, limit: number): Promise<AuditView[]> { return this.tables.auditOlderThan(before, limit); }
  deleteAuditThrough(id: number): Promise<number> { return this.tables.deleteAuditThrough(id); }

  createNetwork(rec: Omit<NetworkRecord, 'createdAt'>): Promise<NetworkRecord> { return this.networks.createNetwork(rec); }
  getNetwork(name: string): Promise<NetworkRecord | undefined> { return this.networks.getNetwork(name); }
  listNetworks(): Promise<NetworkRecord[]> { return this.networks.listNetworks(); }
  updateNetwork(name: string, patch: NetworkPatch): Promise<NetworkRecord> { return this.networks.updateNetwork(name, patch); }
  deleteNetwork(name: string): Promise<void> { return this.networks.deleteNetwork(name); }
  listNicAllocations(f?: NicAllocationFilter): Promise<NicAllocation[]> { return this.networks.listNicAllocations(f); }
  putNicAllocation(a: NicAllocation): Promise<void> { return this.networks.putNicAllocation(a); }
  deleteNicAllocations(vm: string, nic?: string): Promise<number> { return this.networks.deleteNicAllocations(vm, nic); }

  async close(): Promise<void> {
    await this.kv.close();
  }
}
