/** The networks and network_nics tables (NetworkStore of the SQLite backend). */
import { fail } from '../../shared/index.js';
import { NETWORK_MODES, type NetworkModeName } from '../../spec/index.js';
import type { NetworkPatch, NetworkRecord, NetworkStore, NicAllocation, NicAllocationFilter } from '../network-store.js';
import { guard, sqliteCode, toStoreError, type Db } from './database.js';

interface NetworkRow {
  name: string; mode: string; bridge: string; subnet: string | null; gateway: string | null;
  dhcp_start: string | null; dhcp_end: string | null; dns_domain: string | null; uplink: string | null; vlan: number | null; created_at: string;
}
type NicRow = NicAllocation;

const COLS = 'name, mode, bridge, subnet, gateway, dhcp_start, dhcp_end, dns_domain, uplink, vlan, created_at';
const MODES: ReadonlySet<string> = new Set(NETWORK_MODES);

const toRecord = (r: NetworkRow): NetworkRecord => {
  if (!MODES.has(r.mode)) throw new Error(`store: unknown network mode ${JSON.stringify(r.mode)}`);
  return {
    name: r.name, mode: r.mode as NetworkModeName, bridge: r.bridge, subnet: r.subnet, gateway: r.gateway,
    dhcpRange: r.dhcp_start !== null && r.dhcp_end !== null ? { start: r.dhcp_start, end: r.dhcp_end } : null,
    dnsDomain: r.dns_domain, uplink: r.uplink, vlan: r.vlan, createdAt: r.created_at,
  };
};

const toRow = (r: NetworkRecord): NetworkRow => ({
  name: r.name, mode: r.mode, bridge: r.bridge, subnet: r.subnet, gateway: r.gateway,
  dhcp_start: r.dhcpRange?.start ?? null, dhcp_end: r.dhcpRange?.end ?? null,
  dns_domain: r.dnsDomain, uplink: r.uplink, vlan: r.vlan, created_at: r.createdAt,
});

export class NetworkTables implements NetworkStore {
  private readonly q;

  constructor(private readonly db: Db) {
    this.q = {
      insert: db.prepare<[NetworkRow]>(`INSERT INTO networks (${COLS}) VALUES
        (@name, @mode, @bridge, @subnet, @gateway, @dhcp_start, @dhcp_end, @dns_domain, @uplink, @vlan, @created_at)`),
      get: db.prepare<[string], NetworkRow>(`SELECT ${COLS} FROM networks WHERE name = ?`),
      list: db.prepare<[], NetworkRow>(`SELECT ${COLS} FROM networks ORDER BY name`),
      update: db.prepare<[NetworkRow]>(`UPDATE networks SET mode = @mode, bridge = @bridge, subnet = @subnet, gateway = @gateway,
        dhcp_start = @dhcp_start, dhcp_end = @dhcp_end, dns_domain = @dns_domain, uplink = @uplink, vlan = @vlan WHERE name = @name`),
      remove: db.prepare<[string]>('DELETE FROM networks WHERE name = ?'),
      putNic: db.prepare<[NicRow]>(`INSERT INTO network_nics (network, vm, nic, mac, ip, tap) VALUES (@network, @vm, @nic, @mac, @ip, @tap)
        ON CONFLICT (vm, nic) DO UPDATE SET network = excluded.network, mac = excluded.mac, ip = excluded.ip, tap = excluded.tap`),
      removeNics: db.prepare<[string]>('DELETE FROM network_nics WHERE vm = ?'),
      removeNic: db.prepare<[string, string]>('DELETE FROM network_nics WHERE vm = ? AND nic = ?'),
    };
  }

  async createNetwork(input: Omit<NetworkRecord, 'createdAt'>): Promise<NetworkRecord> {
    const rec: NetworkRecord = { ...input, createdAt: new Date().toISOString() };
    try {
      this.q.insert.run(toRow(rec));
    } catch (err) {
      if (sqliteCode(err) === 'SQLITE_CONSTRAINT_PRIMARYKEY') fail('NETWORK_EXISTS', `a network named ${rec.name} already exists`, { cause: err });
      if (sqliteCode(err) === 'SQLITE_CONSTRAINT_UNIQUE') fail('NETWORK_EXISTS', `another network already owns bridge ${rec.bridge}`, { cause: err });
      throw toStoreError(`creating network ${rec.name}`, err);
    }
    return rec;
  }

  async getNetwork(name: string): Promise<NetworkRecord | undefined> {
    const row = guard(`reading network ${name}`, () => this.q.get.get(name));
    return row === undefined ? undefined : toRecord(row);
  }

  async listNetworks(): Promise<NetworkRecord[]> {
    return guard('listing networks', () => this.q.list.all()).map(toRecord);
  }

  async updateNetwork(name: string, patch: NetworkPatch): Promise<NetworkRecord> {
    const tx = this.db.transaction((): NetworkRecord => {
      const row = this.q.get.get(name);
      if (row === undefined) fail('NETWORK_NOT_FOUND', `no network named ${name}`);
      const next: NetworkRecord = { ...toRecord(row), ...patch, name };
      this.q.update.run(toRow(next));
      return next;
    });
    return guard(`updating network ${name}`, () => tx.immediate());
  }

  async deleteNetwork(name: string): Promise<void> {
    const { changes } = guard(`deleting network ${name}`, () => this.q.remove.run(name));
    if (changes === 0) fail('NETWORK_NOT_FOUND', `no network named ${name}`);
  }

  async listNicAllocations(f: NicAllocationFilter = {}): Promise<NicAllocation[]> {
    const where: string[] = [];
    const params: string[] = [];
    if (f.network !== undefined) { where.push('network = ?'); params.push(f.network); }
    if (f.vm !== undefined) { where.push('vm = ?'); params.push(f.vm); }
    const sql = `SELECT network, vm, nic, mac, ip, tap FROM network_nics ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY network, vm, nic`;
    return guard('listing network NICs', () => this.db.prepare<string[], NicRow>(sql).all(...params));
  }

  async putNicAllocation(a: NicAllocation): Promise<void> {
    try {
      this.q.putNic.run({ network: a.network, vm: a.vm, nic: a.nic, mac: a.mac, ip: a.ip, tap: a.tap });
    } catch (err) {
      const code = sqliteCode(err);
      if (code === 'SQLITE_CONSTRAINT_FOREIGNKEY') fail('NETWORK_NOT_FOUND', `no network named ${a.network}`, { cause: err });
      if (code === 'SQLITE_CONSTRAINT_UNIQUE') throw new Error(`store: tap ${a.tap} or address ${String(a.ip)} on ${a.network} is taken`, { cause: err });
      throw toStoreError(`recording NIC ${a.vm}/${a.nic}`, err);
    }
  }

  async deleteNicAllocations(vm: string, nic?: string): Promise<number> {
    return guard(`forgetting the NICs of ${vm}`, () => (nic === undefined ? this.q.removeNics.run(vm) : this.q.removeNic.run(vm, nic))).changes;
  }
}
