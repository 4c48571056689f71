/**
 * The driver table (libvirt keeps one too): every hypervisor driver by name,
 * with its capability matrix. The daemon registers the concrete drivers; the
 * rest of the code asks the registry, never names a driver.
 */
import { fail } from '../shared/index.js';
import { CAPABILITIES, type Capability, type CapabilityMatrix } from './capabilities.js';
import type { EndpointDriver, EndpointSession } from './endpoint.js';

/** A row of `polyvisor driver list`. */
export interface DriverRow {
  name: string;
  title: string;
  /** false for drivers reached only through file formats (Hyper-V, XCP-ng). */
  live: boolean;
  urlExample: string;
  capabilities: CapabilityMatrix;
  /** Only a simulator or fake has been driven (named), never a real server. */
  testedAgainst?: string;
}

export class DriverRegistry {
  private readonly drivers = new Map<string, EndpointDriver>();
  private readonly rows = new Map<string, DriverRow>();

  /** Registers a driver for remote endpoints. */
  add(d: EndpointDriver): this {
    if (this.rows.has(d.name)) throw new Error(`driver ${d.name} registered twice`);
    this.drivers.set(d.name, d);
    this.rows.set(d.name, { name: d.name, title: d.title, live: true, urlExample: d.urlExample, capabilities: d.capabilities, ...(d.testedAgainst ? { testedAgainst: d.testedAgainst } : {}) });
    return this;
  }

  /** Registers a row only: the local engine, or a hypervisor reached through its file formats. */
  describe(row: DriverRow): this {
    if (this.rows.has(row.name)) throw new Error(`driver ${row.name} registered twice`);
    this.rows.set(row.name, row);
    return this;
  }

  /** DRIVER_NOT_FOUND unless `name` is a driver that connects to endpoints. */
  get(name: string): EndpointDriver {
    const d = this.drivers.get(name);
    if (!d) {
      const live = [...this.drivers.keys()].sort().join(', ');
      fail('DRIVER_NOT_FOUND', `no endpoint driver named "${name}" (drivers: ${live || 'none'})`);
    }
    return d;
  }

  list(): DriverRow[] {
    return [...this.rows.values()];
  }

  matrix(name: string): CapabilityMatrix {
    const row = this.rows.get(name);
    if (!row) fail('DRIVER_NOT_FOUND', `no driver named "${name}"`);
    return row.capabilities;
  }

  /** CAPABILITY_NOT_SUPPORTED (naming the driver and the capability) unless the driver has it. */
  require(name: string, cap: Capability): void {
    const cell = this.matrix(name)[cap];
    if (!cell.supported) {
      fail('CAPABILITY_NOT_SUPPORTED', `driver ${name} cannot do ${cap}${cell.note ? ` (${cell.note})` : ''}`, { details: { driver: name, capability: cap } });
    }
  }
}

/** Which capabilities a session implements, from its optional parts; the conformance suite compares this with the matrix. */
export function sessionCapabilities(s: EndpointSession): Set<Capability> {
  const has = new Set<Capability>();
  const p = s.power;
  if (p?.start) has.add('power.start');
  if (p?.shutdown) has.add('power.stop');
  if (p?.kill) has.add('power.kill');
  if (p?.pause && p.resume) has.add('power.pause');
  if (p?.suspend) has.add('power.suspend');
  if (p?.reboot) has.add('power.reboot');
  if (s.consoles) has.add('console.serial');
  if (s.snapshots) {
    has.add('snapshot.create');
    has.add('snapshot.revert');
    has.add('snapshot.delete');
  }
  if (s.migration) has.add('migrate.live');
  if (s.exporter) has.add('move.toLocal');
  if (s.importer) has.add('move.fromLocal');
  if (s.reconfigure) has.add('reconfigure');
  if (s.clone) has.add('clone');
  if (s.events) has.add('events');
  if (s.metrics) has.add('metrics');
  return has;
}

/** Capabilities whose presence sessionCapabilities can see (the rest are matrix-only: memory snapshots, trees, graphical consoles…). */
export const SHAPED_CAPABILITIES: readonly Capability[] = CAPABILITIES.filter((c) =>
  ['power.start', 'power.stop', 'power.kill', 'power.pause', 'power.suspend', 'power.reboot', 'console.serial', 'snapshot.create', 'snapshot.revert', 'snapshot.delete', 'migrate.live', 'move.toLocal', 'move.fromLocal', 'reconfigure', 'clone', 'events', 'metrics'].includes(c),
);
