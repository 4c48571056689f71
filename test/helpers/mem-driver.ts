/**
 * An in-memory endpoint driver, a stand-in written for the tests of the code
 * around drivers (EndpointService, the API's routes and their documented
 * answers, the CLI). It is not a hypervisor: the real drivers have their own
 * integration files against libvirtd, vcsim and the Proxmox fake.
 */
import {
  matrix, no, yes, type CapabilityMatrix, type EndpointConnection, type EndpointDriver, type EndpointSession, type ForeignChange,
  type ForeignSnapshot, type ForeignVm,
} from '../../src/drivers/index.js';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fail } from '../../src/shared/index.js';
import { validateSpec, type VmSpec } from '../../src/spec/index.js';

/** The bytes of a mem VM's disk0: 2 MiB, a pattern that differs per 512-byte sector (so a wrong offset shows). */
export function memDiskBytes(vm: string): Buffer {
  const b = Buffer.alloc(2 * 1024 ** 2);
  for (let i = 0; i < b.length; i += 512) b.write(`${vm}:sector:${i / 512}`, i);
  return b;
}

export const memVm = (name: string, state: ForeignVm['state'] = 'stopped', host = 'h1'): ForeignVm => ({
  id: `id-${name}`, name, state, cpus: 1, memoryBytes: 256 * 1024 ** 2, host, guestOs: 'other', firmware: 'bios',
  disks: [{ name: 'disk0', sizeBytes: 1024 ** 3, location: `/mem/${name}.img`, format: 'raw' }], nics: [{ mac: '52:54:00:00:00:01', network: 'net0', model: 'virtio' }],
});

export interface MemDriver {
  driver: EndpointDriver;
  /** Calls the sessions received, in order (connect, list, start NAME…). */
  calls: string[];
  vms: Map<string, ForeignVm>;
  /** false: every call fails with ENDPOINT_UNREACHABLE. */
  setUp(up: boolean): void;
  /** Pushes a change to the watchers (when events are on). */
  emit(c: ForeignChange): void;
}

export function memDriver(o: { name?: string; events?: boolean; full?: boolean; password?: string; failDownloadAfter?: number; diskRoot?: string; failDefine?: boolean } = {}): MemDriver {
  const calls: string[] = [];
  const vms = new Map<string, ForeignVm>([['a', memVm('a')], ['b', memVm('b', 'running')]]);
  const snaps = new Map<string, ForeignSnapshot[]>();
  let up = true;
  let emit: ((c: ForeignChange) => void) | null = null;
  const check = () => { if (!up) fail('ENDPOINT_UNREACHABLE', 'the in-memory endpoint is down'); };
  const get = (n: string): ForeignVm => { check(); const v = vms.get(n); if (!v) fail('FOREIGN_VM_NOT_FOUND', `no VM named ${n}`); return v; };
  const setState = (n: string, state: ForeignVm['state']) => { vms.set(n, { ...get(n), state }); emit?.({ vm: n, state }); };
  const full = o.full !== false;
  const session = (_c: EndpointConnection): EndpointSession => ({
    async info() { check(); return { product: 'in-memory test driver 1.0', version: '1.0', hosts: ['h1', 'h2'] }; },
    async list() { calls.push('list'); check(); return [...vms.values()]; },
    async get(n) { return get(n); },
    async close() {},
    power: {
      async start(n) { calls.push(`start ${n}`); if (get(n).state === 'running') fail('INVALID_TRANSITION', `${n} is running`); setState(n, 'running'); },
      async kill(n) { calls.push(`kill ${n}`); setState(n, 'stopped'); },
      ...(full ? {
        async shutdown(n: string) { calls.push(`shutdown ${n}`); setState(n, 'stopped'); },
        async pause(n: string) { setState(n, 'paused'); },
        async resume(n: string) { setState(n, 'running'); },
        async suspend(n: string) { setState(n, 'suspended'); },
        async reboot(n: string) { get(n); },
      } : {}),
    },
    ...(full ? {
      snapshots: {
        async list(n: string) { get(n); return snaps.get(n) ?? []; },
        async create(n: string, s: { name: string; description?: string; memory: boolean }) {
          const list = (snaps.get(n) ?? []).map((x) => ({ ...x, current: false }));
          const cur = (snaps.get(n) ?? []).find((x) => x.current)?.name ?? null;
          snaps.set(n, [...list, { name: s.name, parent: cur, createdAt: new Date().toISOString(), description: s.description ?? '', memory: s.memory, current: true }]);
        },
        async revert(n: string, s: string) {
          const list = snaps.get(n) ?? [];
          if (!list.some((x) => x.name === s)) fail('ENDPOINT_TASK_FAILED', `no snapshot ${s}`);
          snaps.set(n, list.map((x) => ({ ...x, current: x.name === s })));
          if (list.find((x) => x.name === s)!.memory) setState(n, 'running');
        },
        async remove(n: string, s: string) {
          const list = snaps.get(n) ?? [];
          const gone = list.find((x) => x.name === s);
          if (!gone) fail('ENDPOINT_TASK_FAILED', `no snapshot ${s}`);
          snaps.set(n, list.filter((x) => x.name !== s).map((x) => (x.parent === s ? { ...x, parent: gone.parent } : x)));
        },
      },
      migration: { async migrate(n: string, host: string) { vms.set(n, { ...get(n), host }); } },
      reconfigure: { async setCpuMemory(n: string, c: { cpus?: number; memoryBytes?: number }) { const v = get(n); vms.set(n, { ...v, cpus: c.cpus ?? v.cpus, memoryBytes: c.memoryBytes ?? v.memoryBytes }); } },
      exporter: {
        async disks(n: string) {
          get(n);
          const bytes = memDiskBytes(n);
          return [{
            name: 'disk0', sizeBytes: bytes.length, format: 'raw',
            async open() {
              if (o.failDownloadAfter === undefined) return Readable.from([bytes.subarray(0, 1024 ** 2), bytes.subarray(1024 ** 2)]);
              return Readable.from((async function* () {
                yield bytes.subarray(0, o.failDownloadAfter);
                fail('ENDPOINT_LOST', 'the in-memory endpoint went away mid-download');
              })());
            },
          }];
        },
        async toSpec(n: string) {
          const v = get(n);
          return { spec: validateSpec({ name: n, memory: `${v.memoryBytes / 1024 ** 2}Mi`, cpu: { count: v.cpus }, disks: [{ name: 'disk0', size: '2Mi', format: 'raw' }] }), lossy: ['network net0: the in-memory network is not kept'] };
        },
      },
      importer: {
        diskDir: (n: string) => path.join(o.diskRoot ?? path.join(os.tmpdir(), 'pv-mem-disks'), n),
        async define(spec: VmSpec, disks: Record<string, { path: string; format: string }>) {
          check();
          if (o.failDefine) fail('ENDPOINT_TASK_FAILED', 'the in-memory endpoint refused the definition');
          const v: ForeignVm = {
            ...memVm(spec.name), cpus: spec.cpu.count, memoryBytes: spec.memory,
            disks: Object.entries(disks).map(([name, d]) => ({ name, sizeBytes: null, location: d.path, format: d.format })),
          };
          vms.set(spec.name, v);
          return v;
        },
      },
      clone: { async clone(n: string, to: string) { const v = { ...get(n), name: to, id: `id-${to}`, state: 'stopped' as const }; vms.set(to, v); return v; } },
    } : {}),
    ...(o.events ? { events: { watch: (cb: (c: ForeignChange) => void) => { emit = cb; return () => { emit = null; }; } } } : {}),
  });
  const caps: CapabilityMatrix = full
    ? matrix({
      'power.start': yes(), 'power.stop': yes(), 'power.kill': yes(), 'power.pause': yes(), 'power.suspend': yes(), 'power.reboot': yes(),
      'snapshot.create': yes(), 'snapshot.memory': yes(), 'snapshot.tree': yes(), 'snapshot.revert': yes(), 'snapshot.delete': yes(),
      'migrate.live': yes(), reconfigure: yes(), clone: yes(), 'move.toLocal': yes(), 'move.fromLocal': yes(), ...(o.events ? { events: yes() } : {}),
    })
    : matrix({ 'power.start': yes(), 'power.kill': yes(), 'power.pause': no('no pause here'), ...(o.events ? { events: yes() } : {}) });
  const driver: EndpointDriver = {
    name: o.name ?? 'mem', title: 'in-memory test driver (not a hypervisor)', urlExample: 'mem://anything', capabilities: caps,
    async connect(c) {
      calls.push('connect');
      check();
      if (o.password !== undefined && c.password !== o.password) fail('ENDPOINT_AUTH_FAILED', 'the in-memory endpoint refused the password');
      return session(c);
    },
  };
  return { driver, calls, vms, setUp: (v) => { up = v; }, emit: (c) => emit?.(c) };
}

/** The secrets store's interface over a Map (tests of the endpoint code; the real store is src/secrets). */
export class MemSecrets {
  readonly m = new Map<string, string>();
  async list() { return [...this.m.keys()].map((name) => ({ name, createdAt: 'x', updatedAt: 'x' })); }
  async set(name: string, value: string) { this.m.set(name, value); }
  async reveal(name: string) { return this.m.get(name)!; }
  async remove(name: string) { this.m.delete(name); }
  has(name: string) { return this.m.has(name); }
}
