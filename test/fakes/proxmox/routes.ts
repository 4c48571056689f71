/**
 * The handlers of the fake, one per method of the schema excerpt (the key is
 * the excerpt's "METHOD /path/{param}"). Checks that qemu-server makes before
 * forking a worker answer at once (500 with its text); the rest happen inside
 * the task and end up in its exitstatus, as on a real node.
 */
import {
  checkLock, configOf, die, figuresOf, paramError, PveError, type Cluster, type Snapshot, type Vm, type VmConf,
} from './state.js';
import type { TaskCtx, Tasks } from './tasks.js';

export interface Call {
  params: Record<string, string>;
  user: string;
  cluster: Cluster;
  tasks: Tasks;
}

type Handler = (c: Call) => unknown;

const truthy = (v: string | undefined): boolean => v !== undefined && /^(1|true|on|yes)$/i.test(v);
const vmOf = (c: Call): Vm => c.cluster.vm(c.params['node']!, Number(c.params['vmid']));
const copyConf = (conf: VmConf): VmConf => ({ ...conf, devices: { ...conf.devices } });
const worker = (c: Call, type: string, vm: Vm, work: (t: TaskCtx) => Promise<void>): string =>
  c.tasks.start(c.params['node']!, type, String(vm.vmid), c.user, work);
const running = (vm: Vm): boolean => vm.status === 'running';

/** Holds a config lock on `vm` while `work` runs, as qemu-server does for snapshots, rollbacks and migrations. */
async function withLock(vm: Vm, lock: string, work: () => Promise<void>): Promise<void> {
  vm.lock = lock;
  try {
    await work();
  } finally {
    delete vm.lock;
  }
}

/** A task on an existing snapshot of the VM: it must exist and the VM must not be locked. */
function snapshotTask(c: Call, type: string, lock: string, work: (vm: Vm, snap: Snapshot, t: TaskCtx) => Promise<void>): string {
  const vm = vmOf(c);
  const name = c.params['snapname']!;
  return worker(c, type, vm, async (t) => {
    const snap = vm.snapshots.get(name);
    if (!snap) throw new Error(`snapshot '${name}' does not exist`);
    checkLock(vm);
    await withLock(vm, lock, () => t.step());
    await work(vm, snap, t);
  });
}

function startVm(vm: Vm, t: TaskCtx): void {
  if (running(vm)) throw new Error(`VM ${vm.vmid} already running`);
  if (vm.lock && vm.lock !== 'suspended') throw new Error(`VM is locked (${vm.lock})`);
  if (vm.lock === 'suspended') {
    t.log(`resuming VM ${vm.vmid} from saved state ${vm.vmstate}`);
    delete vm.lock;
    delete vm.vmstate;
  }
  vm.status = 'running';
  vm.qmp = 'running';
  vm.startedAt = Date.now();
}

function stopVm(vm: Vm): void {
  vm.status = 'stopped';
  vm.qmp = 'running';
}

/** memory's property string: "[current=]<integer>", at least 16 MiB. */
function memoryMiB(v: string): number {
  const m = /^(?:current=)?(\d+)$/.exec(v);
  if (!m) paramError({ memory: `invalid format - value without key, but schema does not define a default key` });
  const n = Number(m![1]);
  if (n < 16) paramError({ memory: 'invalid format - current: value must have a minimum value of 16' });
  return n;
}

function applyConfig(vm: Vm, p: Record<string, string>): void {
  checkLock(vm);
  if (p['digest'] && p['digest'] !== configOf(vm)['digest']) die('detected modified configuration - file changed by other user? Try again.');
  if (p['cores'] !== undefined) vm.conf.cores = Number(p['cores']);
  if (p['sockets'] !== undefined) vm.conf.sockets = Number(p['sockets']);
  if (p['memory'] !== undefined) vm.conf.memory = memoryMiB(p['memory']);
  if (p['name'] !== undefined) vm.conf.name = p['name'];
  if (p['description'] !== undefined) vm.conf.description = p['description'];
  for (const k of (p['delete'] ?? '').split(/[,;\s]+/).filter(Boolean)) {
    if (k === 'description') delete vm.conf.description;
    else if (k === 'sockets') vm.conf.sockets = 1;
    else if (k === 'cores') vm.conf.cores = 1;
  }
}

const progressLine = (what: string, done: number, total: number): string =>
  `${what}: transferred ${(done / 1024).toFixed(1)} GiB of ${(total / 1024).toFixed(1)} GiB (${((100 * done) / total).toFixed(2)}%) in ${done / 256}s`;

export const ROUTES: Record<string, Handler> = {
  'GET /version': () => ({ version: '8.4.1', release: '8.4', repoid: '2a5fa54a', console: 'html5' }),

  'GET /nodes': (c) => c.cluster.nodes.map((node, i) => ({
    node, status: 'online', cpu: 0.02, maxcpu: 16, mem: 8 * 1024 ** 3, maxmem: 64 * 1024 ** 3, uptime: 86_400 + i, level: '',
    ssl_fingerprint: 'AA:BB:CC',
  })),

  'GET /cluster/resources': (c) => {
    const type = c.params['type'];
    const out: Record<string, unknown>[] = [];
    if (!type || type === 'vm') {
      for (const vm of c.cluster.vms.values()) {
        const f = figuresOf(vm);
        const { cpus, ...rest } = f;
        out.push({ id: `qemu/${vm.vmid}`, type: 'qemu', node: vm.node, template: 0, ...rest, maxcpu: cpus, ...(vm.lock ? { lock: vm.lock } : {}) });
      }
    }
    if (!type || type === 'node') {
      for (const node of c.cluster.nodes) out.push({ id: `node/${node}`, type: 'node', node, status: 'online', maxcpu: 16, maxmem: 64 * 1024 ** 3, level: '' });
    }
    return out;
  },

  'GET /cluster/nextid': (c) => {
    const want = c.params['vmid'];
    if (want !== undefined) {
      if (c.cluster.vms.has(Number(want))) paramError({ vmid: `VM ${want} already exists` });
      return Number(want);
    }
    return c.cluster.nextId();
  },

  'GET /nodes/{node}/qemu': (c) => {
    c.cluster.checkNode(c.params['node']!);
    return [...c.cluster.vms.values()].filter((v) => v.node === c.params['node']).map((vm) => ({
      ...figuresOf(vm), ...(vm.lock ? { lock: vm.lock } : {}), ...(truthy(c.params['full']) && running(vm) ? { qmpstatus: vm.qmp } : {}),
    }));
  },

  'GET /nodes/{node}/qemu/{vmid}/config': (c) => configOf(vmOf(c)),

  'PUT /nodes/{node}/qemu/{vmid}/config': (c) => {
    applyConfig(vmOf(c), c.params);
    return null;
  },

  'POST /nodes/{node}/qemu/{vmid}/config': (c) => {
    const vm = vmOf(c);
    checkLock(vm);
    return worker(c, 'qmconfig', vm, async () => applyConfig(vm, c.params));
  },

  'GET /nodes/{node}/qemu/{vmid}/status/current': (c) => {
    const vm = vmOf(c);
    return {
      ...figuresOf(vm), ha: { managed: 0 }, agent: 0, qmpstatus: running(vm) ? vm.qmp : 'stopped',
      ...(vm.lock ? { lock: vm.lock } : {}), ...(running(vm) ? { pid: 40_000 + vm.vmid, 'running-qemu': '9.2.0', 'running-machine': 'pc-i440fx-9.2+pve1' } : {}),
    };
  },

  'POST /nodes/{node}/qemu/{vmid}/status/start': (c) => {
    const vm = vmOf(c);
    return worker(c, 'qmstart', vm, async (t) => startVm(vm, t));
  },

  'POST /nodes/{node}/qemu/{vmid}/status/stop': (c) => {
    const vm = vmOf(c);
    if (truthy(c.params['overrule-shutdown'])) {
      for (const t of c.tasks.running()) if (t.type === 'qmshutdown' && t.id === String(vm.vmid)) t.stop();
    }
    return worker(c, 'qmstop', vm, async () => {
      if (vm.lock === 'suspended') throw new Error('VM is locked (suspended)');
      if (running(vm)) stopVm(vm);
    });
  },

  'POST /nodes/{node}/qemu/{vmid}/status/shutdown': (c) => {
    const vm = vmOf(c);
    if (running(vm) && vm.qmp === 'paused' && !truthy(c.params['forceStop'])) die('VM is paused - cannot shutdown');
    return worker(c, 'qmshutdown', vm, async (t) => {
      if (!running(vm)) return;
      await t.step(); // the guest takes its time
      stopVm(vm);
    });
  },

  'POST /nodes/{node}/qemu/{vmid}/status/reboot': (c) => {
    const vm = vmOf(c);
    if (running(vm) && vm.qmp === 'paused') die('VM is paused - cannot shutdown');
    if (!running(vm)) die(`VM ${vm.vmid} not running`);
    return worker(c, 'qmreboot', vm, async (t) => {
      await t.step();
      vm.startedAt = Date.now();
    });
  },

  'POST /nodes/{node}/qemu/{vmid}/status/suspend': (c) => {
    const vm = vmOf(c);
    if (!running(vm)) die(`VM ${vm.vmid} not running`);
    const todisk = truthy(c.params['todisk']);
    if (todisk) checkLock(vm);
    return worker(c, 'qmsuspend', vm, async (t) => {
      if (!todisk) {
        vm.qmp = 'paused';
        return;
      }
      vm.lock = 'suspending';
      try {
        t.log('saving VM state and RAM using storage \'local-lvm\'');
        await t.step();
        await t.step();
      } catch (err) {
        delete vm.lock;
        throw err;
      }
      stopVm(vm);
      vm.lock = 'suspended';
      vm.vmstate = `local-lvm:vm-${vm.vmid}-state-suspend-${new Date().toISOString().slice(0, 10)}`;
    });
  },

  'POST /nodes/{node}/qemu/{vmid}/status/resume': (c) => {
    const vm = vmOf(c);
    const toDisk = vm.lock === 'suspended';
    if (!toDisk && !running(vm)) die(`VM ${vm.vmid} not running`);
    return worker(c, 'qmresume', vm, async (t) => {
      if (toDisk) startVm(vm, t);
      else vm.qmp = 'running';
    });
  },

  'GET /nodes/{node}/qemu/{vmid}/snapshot': (c) => {
    const vm = vmOf(c);
    const out: Record<string, unknown>[] = [...vm.snapshots.values()].map((s) => ({
      name: s.name, snaptime: s.snaptime, vmstate: s.vmstate ? 1 : 0, description: s.description, ...(s.parent ? { parent: s.parent } : {}),
    }));
    out.push({ name: 'current', digest: configOf(vm)['digest'], running: running(vm) ? 1 : 0, description: 'You are here!', ...(vm.parent ? { parent: vm.parent } : {}) });
    return out;
  },

  'POST /nodes/{node}/qemu/{vmid}/snapshot': (c) => {
    const name = c.params['snapname']!;
    if (name === 'current') die(`unable to use snapshot name 'current' (reserved name)`);
    if (name.toLowerCase() === 'pending') die(`unable to use snapshot name 'pending' (reserved name)`);
    const vm = vmOf(c);
    return worker(c, 'qmsnapshot', vm, async (t) => {
      checkLock(vm);
      if (vm.snapshots.has(name)) throw new Error(`snapshot name '${name}' already used`);
      const withRam = truthy(c.params['vmstate']) && running(vm);
      await withLock(vm, 'snapshot', async () => {
        if (withRam) {
          t.log(`saving VM state and RAM using storage 'local-lvm'`);
          await t.step();
        }
        t.log(`snapshotting 'drive-scsi0' (local-lvm:vm-${vm.vmid}-disk-0)`);
        await t.step();
      });
      vm.snapshots.set(name, {
        name, parent: vm.parent, snaptime: Math.floor(Date.now() / 1000), description: c.params['description'] ?? '', vmstate: withRam, conf: copyConf(vm.conf),
      });
      vm.parent = name;
    });
  },

  'DELETE /nodes/{node}/qemu/{vmid}/snapshot/{snapname}': (c) =>
    snapshotTask(c, 'qmdelsnapshot', 'snapshot-delete', async (vm, snap) => {
      for (const s of vm.snapshots.values()) if (s.parent === snap.name) s.parent = snap.parent;
      if (vm.parent === snap.name) vm.parent = snap.parent;
      vm.snapshots.delete(snap.name);
    }),

  'POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback': (c) =>
    snapshotTask(c, 'qmrollback', 'rollback', async (vm, snap, t) => {
      if (running(vm)) t.log(`stopped VM ${vm.vmid}`);
      stopVm(vm);
      vm.conf = copyConf(snap.conf);
      vm.parent = snap.name;
      if (snap.vmstate || truthy(c.params['start'])) startVm(vm, t);
    }),

  'POST /nodes/{node}/qemu/{vmid}/migrate': (c) => {
    const target = c.params['target']!;
    if (target === c.params['node']) paramError({ target: 'target is local node.' });
    c.cluster.checkNode(target);
    const vm = vmOf(c);
    checkLock(vm);
    const online = running(vm);
    if (online && !truthy(c.params['online'])) die(`can't migrate running VM without --online`);
    return worker(c, 'qmigrate', vm, async (t) => {
      await withLock(vm, 'migrate', async () => {
        t.log(`starting migration of VM ${vm.vmid} to node '${target}' (10.0.0.${c.cluster.nodes.indexOf(target) + 1})`);
        if (online) {
          t.log(`starting online/live migration on unix:/run/qemu-server/${vm.vmid}.migrate`);
          const total = vm.conf.memory;
          for (let i = 1; i <= 4; i++) {
            await t.step();
            t.log(`migration active, transferred ${((total * i) / 4).toFixed(1)} MiB of ${total.toFixed(1)} MiB VM-state, 512.0 MiB/s`);
          }
        } else await t.step();
        t.log('migration finished successfully (duration 00:00:02)');
      });
      vm.node = target;
    });
  },

  'POST /nodes/{node}/qemu/{vmid}/clone': (c) => {
    const vm = vmOf(c);
    const newid = Number(c.params['newid']);
    if (c.cluster.vms.has(newid)) die(`unable to create VM ${newid}: config file already exists`);
    return worker(c, 'qmclone', vm, async (t) => {
      if (c.cluster.vms.has(newid)) throw new Error(`unable to create VM ${newid}: config file already exists`);
      const conf = copyConf(vm.conf);
      conf.name = c.params['name'] ?? `Copy-of-VM-${vm.conf.name}`;
      if (c.params['description'] !== undefined) conf.description = c.params['description'];
      for (const [k, v] of Object.entries(conf.devices)) {
        conf.devices[k] = v.replace(`vm-${vm.vmid}-`, `vm-${newid}-`);
        if (k.startsWith('net')) conf.devices[k] = conf.devices[k]!.replace(/=([0-9A-F]{2}:){5}[0-9A-F]{2}/, `=BC:24:11:00:${(newid % 256).toString(16).toUpperCase().padStart(2, '0')}:01`);
      }
      const copy = c.cluster.add({ vmid: newid, node: vm.node, name: conf.name });
      copy.conf = conf;
      copy.lock = 'clone';
      try {
        t.log(`create full clone of drive scsi0 (local-lvm:vm-${vm.vmid}-disk-0)`);
        for (let done = 2048; done <= 8192; done += 2048) {
          await t.step();
          t.log(progressLine('drive-scsi0', done, 8192));
        }
      } catch (err) {
        c.cluster.vms.delete(newid); // qemu-server removes the half-made clone
        throw err;
      }
      delete copy.lock;
    });
  },

  'GET /nodes/{node}/tasks/{upid}/status': (c) => {
    const t = c.tasks.get(c.params['node']!, c.params['upid']!);
    if (!t) die(`no such task`);
    return {
      upid: t!.upid, node: t!.node, pid: t!.pid, pstart: t!.pstart, starttime: t!.starttime, type: t!.type, id: t!.id, user: t!.user,
      status: t!.status, ...(t!.exitstatus !== undefined ? { exitstatus: t!.exitstatus } : {}),
    };
  },

  'GET /nodes/{node}/tasks/{upid}/log': (c) => {
    const t = c.tasks.get(c.params['node']!, c.params['upid']!);
    if (!t) die(`no such task`);
    const start = Number(c.params['start'] ?? 0);
    const limit = Number(c.params['limit'] ?? 50);
    return t!.lines.slice(start, start + limit).map((line, i) => ({ n: start + i + 1, t: line }));
  },

  'DELETE /nodes/{node}/tasks/{upid}': (c) => {
    const t = c.tasks.get(c.params['node']!, c.params['upid']!);
    if (!t) die(`no such task`);
    if (t!.status === 'running') t!.stop();
    return null;
  },
};

/** Route keys with their path patterns compiled, longest literal paths first. */
export const MATCHERS = Object.keys(ROUTES).map((key) => {
  const [method, pattern] = key.split(' ') as [string, string];
  const names: string[] = [];
  const re = new RegExp(`^${pattern.replace(/\{(\w+)\}/g, (_m, n: string) => {
    names.push(n);
    return '([^/]+)';
  })}$`);
  return { key, method, re, names };
});

export { PveError };
