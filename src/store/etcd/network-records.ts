/**
 * The NetworkStore on etcd (issue 19): a network and its NIC allocations are
 * cluster-wide, so a name, subnet, VNI, MAC and reserved address mean the same
 * on every member. Uniqueness is kept by etcd transactions: a name and a
 * bridge are taken with `create_revision == 0`, a reserved address with an
 * index key `network-ips/NETWORK/IP` compared in the same transaction, and the
 * VNI comes from a counter compared on its revision. Taps are named from VM
 * and NIC (unique cluster-wide) and each member makes its own.
 */
import { PolyvisorError, fail } from '../../shared/index.js';
import type { NetworkPatch, NetworkRecord, NetworkStore, NicAllocation, NicAllocationFilter } from '../network-store.js';
import type { KvCompare, KvOp } from '../kv.js';
import type { EtcdKv } from './etcd-kv.js';
import type { Keys } from './keys.js';

/** VNIs start here (low numbers are left to an operator's own VXLANs) and stay within 24 bits. */
export const FIRST_VNI = 10_000;
const MAX_VNI = 0xffffff;
const CAS_ROUNDS = 50;

const nicOrder = (a: NicAllocation, b: NicAllocation): number =>
  a.network.localeCompare(b.network) || a.vm.localeCompare(b.vm) || a.nic.localeCompare(b.nic);

export class EtcdNetworkRecords implements NetworkStore {
  /** Networks here span the cluster's members (NetworkService lets bridge networks run on the overlay alone). */
  readonly spansHosts = true;

  constructor(private readonly kv: EtcdKv, private readonly keys: Keys) {}

  async createNetwork(input: Omit<NetworkRecord, 'createdAt'>): Promise<NetworkRecord> {
    const key = this.keys.network(input.name);
    const bridgeKey = this.keys.networkBridge(input.bridge);
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const seq = await this.kv.get(this.keys.networkVniSeq);
      const last = seq === undefined ? FIRST_VNI - 1 : Number(seq.value);
      if (last >= MAX_VNI) throw new PolyvisorError('NETWORK_INVALID', `every VXLAN id up to ${MAX_VNI} was handed out`, { details: { field: 'vni' } });
      const rec: NetworkRecord = { ...input, vni: last + 1, createdAt: new Date().toISOString() };
      const seqCmp: KvCompare = seq === undefined
        ? { key: this.keys.networkVniSeq, target: 'create', op: '=', value: 0 }
        : { key: this.keys.networkVniSeq, target: 'mod', op: '=', value: seq.modRevision };
      const r = await this.kv.txn(
        [{ key, target: 'create', op: '=', value: 0 }, { key: bridgeKey, target: 'create', op: '=', value: 0 }, seqCmp],
        [{ put: key, value: JSON.stringify(rec) }, { put: bridgeKey, value: rec.name }, { put: this.keys.networkVniSeq, value: String(rec.vni) }],
        [{ get: key }, { get: bridgeKey }],
      );
      if (r.succeeded) return rec;
      if ((r.gets[0] ?? []).length > 0) fail('NETWORK_EXISTS', `a network named ${rec.name} already exists`);
      if ((r.gets[1] ?? []).length > 0) fail('NETWORK_EXISTS', `another network already owns bridge ${rec.bridge}`);
      // Another member took the next VNI meanwhile: read the counter again.
    }
    throw new Error(`store: the VXLAN id counter kept changing under ${CAS_ROUNDS} attempts`);
  }

  async getNetwork(name: string): Promise<NetworkRecord | undefined> {
    const kv = await this.kv.get(this.keys.network(name));
    return kv === undefined ? undefined : (JSON.parse(kv.value) as NetworkRecord);
  }

  async listNetworks(): Promise<NetworkRecord[]> {
    const { kvs } = await this.kv.range(this.keys.networks, { prefix: true });
    return kvs.map((kv) => JSON.parse(kv.value) as NetworkRecord).sort((a, b) => a.name.localeCompare(b.name));
  }

  async updateNetwork(name: string, patch: NetworkPatch): Promise<NetworkRecord> {
    const key = this.keys.network(name);
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const kv = await this.kv.get(key);
      if (kv === undefined) fail('NETWORK_NOT_FOUND', `no network named ${name}`);
      const cur = JSON.parse(kv.value) as NetworkRecord;
      // The VNI is the network's for good: every member's VXLAN port carries it.
      const next: NetworkRecord = { ...cur, ...patch, name, vni: cur.vni ?? null };
      const r = await this.kv.txn([{ key, target: 'mod', op: '=', value: kv.modRevision }], [{ put: key, value: JSON.stringify(next) }]);
      if (r.succeeded) return next;
    }
    throw new Error(`store: network ${name} kept changing under ${CAS_ROUNDS} attempts to update it`);
  }

  async deleteNetwork(name: string): Promise<void> {
    const key = this.keys.network(name);
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const kv = await this.kv.get(key);
      if (kv === undefined) fail('NETWORK_NOT_FOUND', `no network named ${name}`);
      const rec = JSON.parse(kv.value) as NetworkRecord;
      const nics = await this.listNicAllocations({ network: name });
      const ops: KvOp[] = [
        { delete: key }, { delete: this.keys.networkBridge(rec.bridge) },
        { delete: this.keys.networkIp(name, ''), prefix: true },
        ...nics.map((a) => ({ delete: this.keys.networkNic(a.vm, a.nic) })),
      ];
      const r = await this.kv.txn([{ key, target: 'mod', op: '=', value: kv.modRevision }], ops);
      if (r.succeeded) return;
    }
    throw new Error(`store: network ${name} kept changing under ${CAS_ROUNDS} attempts to delete it`);
  }

  async listNicAllocations(f: NicAllocationFilter = {}): Promise<NicAllocation[]> {
    const from = f.vm !== undefined ? `${this.keys.networkNics}${f.vm}/` : this.keys.networkNics;
    const { kvs } = await this.kv.range(from, { prefix: true });
    return kvs
      .map((kv) => JSON.parse(kv.value) as NicAllocation)
      .filter((a) => (f.network === undefined || a.network === f.network) && (f.vm === undefined || a.vm === f.vm))
      .sort(nicOrder);
  }

  async putNicAllocation(a: NicAllocation): Promise<void> {
    const key = this.keys.networkNic(a.vm, a.nic);
    const owner = `${a.vm}/${a.nic}`;
    for (let round = 0; round < CAS_ROUNDS; round++) {
      const net = await this.kv.get(this.keys.network(a.network));
      if (net === undefined) fail('NETWORK_NOT_FOUND', `no network named ${a.network}`);
      const all = await this.listNicAllocations();
      if (all.some((x) => x.tap === a.tap && `${x.vm}/${x.nic}` !== owner)) throw new Error(`store: tap ${a.tap} is taken`);
      const prev = await this.kv.get(key);
      const cmp: KvCompare[] = [
        { key: this.keys.network(a.network), target: 'mod', op: '=', value: net.modRevision },
        prev === undefined ? { key, target: 'create', op: '=', value: 0 } : { key, target: 'mod', op: '=', value: prev.modRevision },
      ];
      const ops: KvOp[] = [{ put: key, value: JSON.stringify({ network: a.network, vm: a.vm, nic: a.nic, mac: a.mac, ip: a.ip, tap: a.tap }) }];
      const old = prev === undefined ? undefined : (JSON.parse(prev.value) as NicAllocation);
      if (old?.ip != null && (old.ip !== a.ip || old.network !== a.network)) ops.push({ delete: this.keys.networkIp(old.network, old.ip) });
      if (a.ip !== null) {
        const ipKey = this.keys.networkIp(a.network, a.ip);
        const holder = await this.kv.get(ipKey);
        if (holder !== undefined && holder.value !== owner) throw new Error(`store: address ${a.ip} on ${a.network} is taken by ${holder.value}`);
        cmp.push(holder === undefined ? { key: ipKey, target: 'create', op: '=', value: 0 } : { key: ipKey, target: 'mod', op: '=', value: holder.modRevision });
        ops.push({ put: ipKey, value: owner });
      }
      const r = await this.kv.txn(cmp, ops);
      if (r.succeeded) return;
    }
    throw new Error(`store: the allocations of ${owner} kept changing under ${CAS_ROUNDS} attempts`);
  }

  async deleteNicAllocations(vm: string, nic?: string): Promise<number> {
    const gone = (await this.listNicAllocations({ vm })).filter((a) => nic === undefined || a.nic === nic);
    if (gone.length === 0) return 0;
    const ops: KvOp[] = gone.flatMap((a) => [
      { delete: this.keys.networkNic(a.vm, a.nic) },
      ...(a.ip !== null ? [{ delete: this.keys.networkIp(a.network, a.ip) }] : []),
    ]);
    await this.kv.txn([], ops);
    return gone.length;
  }
}
