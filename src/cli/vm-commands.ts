import type { Command } from 'commander';
import type { VmActionName } from '../client/index.js';
import type { CloneView, MoveOutView, VmView } from '../spec/index.js';
import { BulkClient } from '../client/index.js';
import { clientFrom, connectionFrom, platformFrom, type GlobalOptions } from './context.js';
import { followOperation } from './follow-operation.js';
import { vmDetails, vmTable } from './format.js';
import { readSpecDocument, specDocument, type CreateFlags } from './spec-input.js';
import { addBulkOptions, runBulk, type BulkFlags } from './bulk.js';
import { isPolyvisorError, PolyvisorError } from '../shared/index.js';
import { stopWaitText, waitNotice } from './wait-notice.js';
import { registerGuestCommand } from './guest-commands.js';
import { registerNicCommands } from './nic-commands.js';
import { registerResizeCommand } from './resize-commands.js';
import { registerHistoryCommand } from './history-commands.js';
import { endpointClientFrom, foreignVmDetails, inventoryTable } from './endpoint-commands.js';
import type { ForeignActionName } from '../client/index.js';

/** "ENDPOINT/NAME" addresses a VM of another hypervisor; a plain NAME (or local/NAME) is this daemon's. */
export function foreignRef(ref: string): { endpoint: string; vm: string } | undefined {
  const i = ref.indexOf('/');
  if (i < 0) return undefined;
  const endpoint = ref.slice(0, i);
  const vm = ref.slice(i + 1);
  if (!endpoint || !vm) throw new PolyvisorError('INVALID_ARGUMENT', `"${ref}" is not ENDPOINT/NAME`);
  return endpoint === 'local' ? undefined : { endpoint, vm };
}
const localName = (ref: string): string => (ref.startsWith('local/') ? ref.slice('local/'.length) : ref);

const collect = (v: string, prev: string[] = []) => [...prev, v];

function labelsFrom(sel: string[] | undefined): Record<string, string> | undefined {
  if (!sel?.length) return undefined;
  const out: Record<string, string> = {};
  for (const s of sel.flatMap((x) => x.split(','))) {
    const i = s.indexOf('=');
    out[i < 0 ? s : s.slice(0, i)] = i < 0 ? '' : s.slice(i + 1);
  }
  return out;
}

export function registerVmCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const show = (v: VmView, json?: boolean) => out(json || g().json ? JSON.stringify(v, null, 2) + '\n' : `${v.name}: ${v.state} (${v.stateReason})\n`);
  const bulk = () => ({ bulk: new BulkClient(connectionFrom(g())), platform: platformFrom(g()) });
  const vm = program.command('vm').description('create, list and control virtual machines');
  const foreignAction = async (f: { endpoint: string; vm: string }, action: ForeignActionName, json?: boolean) => {
    const v = await endpointClientFrom(g()).action(f.endpoint, f.vm, action);
    out(json || g().json ? JSON.stringify(v, null, 2) + '\n' : `${v.ref}: ${v.state}\n`);
  };

  vm.command('create <name>')
    .description('create a VM from a spec file and/or flags')
    .option('-f, --from <file>', 'YAML or JSON spec ("-" for stdin)')
    .option('--cpus <n>', 'vCPUs')
    .option('--memory <size>', 'memory, e.g. 512Mi (a number means MiB)')
    .option('--kernel <path>', 'direct kernel boot')
    .option('--initrd <path>', 'initrd for --kernel')
    .option('--append <cmdline>', 'kernel command line')
    .option('--disk <path>', 'attach an existing image (repeatable)', collect)
    .option('-l, --label <k=v>', 'label (repeatable)', collect)
    .option('--forward <[tcp:][addr:]hostport:guestport>', 'user-mode port forward (repeatable)', collect)
    .option('--network <name[,model=M][,mac=MAC][,ip=IP]>', 'a NIC on this virtual network (repeatable; see `polyvisor network list`)', collect)
    .option('--host <host>', '"auto": the cluster\'s scheduler places it (on a single host: this host); or a host\'s name (it must pass the scheduler\'s filters); left out: the host the CLI talks to')
    .option('--start', 'start it right away')
    .option('--json', 'print JSON')
    .action(async (name: string, f: CreateFlags & { host?: string; start?: boolean; json?: boolean }) => {
      const c = clientFrom(g());
      let v = await c.createVm(await specDocument(name, f), f.host !== undefined ? { host: f.host } : {});
      if (f.start) v = await c.action(name, 'start');
      if (f.host !== undefined && !(f.json || g().json)) out(`${name}: created on host ${v.host}\n`);
      show(v, f.json);
    });

  vm.command('clone <source> <name>')
    .description('copy a stopped VM: its disks are copied (a snapshot chain flattened), read-only images shared; MACs and host port forwards are not copied')
    .option('-f, --from <file>', "the clone's spec, edited from the source's (YAML or JSON; its name must be <name>)")
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print JSON')
    .action(async (source: string, name: string, o: { from?: string; progress?: boolean; json?: boolean }) => {
      const c = clientFrom(g());
      const spec = o.from ? await readSpecDocument(o.from) : undefined;
      const op = await followOperation(platformFrom(g()), await c.cloneVmAsync(source, name, spec), {
        failCode: 'DISK_CREATE_FAILED', ...(o.progress === false ? { progress: false } : {}), text: () => `copying the disks of ${source}`,
      });
      const r = op.result as CloneView;
      out(o.json || g().json ? JSON.stringify(r, null, 2) + '\n'
        : `${name}: cloned from ${source} (${r.vm.state}); copied ${r.copied.join(', ') || 'no disks'}${r.shared.length ? `; shared read-only ${r.shared.join(', ')}` : ''}\n${r.notes.map((n) => `  note: ${n}\n`).join('')}`);
    });

  vm.command('list')
    .alias('ls')
    .description('list VMs: this daemon\'s, then every endpoint\'s (column ENDPOINT; foreign VMs are ENDPOINT/NAME)')
    .option('-l, --label <k=v>', 'only VMs with these labels (repeatable, or k=v,k2=v2)', collect)
    .option('--endpoint <name>', 'only this endpoint\'s VMs ("local" for this daemon\'s); with --json: inventory rows')
    .option('--fresh', 'ask every endpoint now instead of using the cached inventory')
    .option('--json', 'print JSON (without --endpoint: this daemon\'s VMs, as before)')
    .action(async (o: { label?: string[]; endpoint?: string; fresh?: boolean; json?: boolean }) => {
      if (o.endpoint !== undefined) {
        const inv = await endpointClientFrom(g()).inventory({ endpoint: o.endpoint, fresh: o.fresh === true });
        for (const e of inv.errors) process.stderr.write(`warning: endpoint ${e.endpoint}: ${e.code}: ${e.message}${inv.stale.includes(e.endpoint) ? ' (rows from the cache)' : ''}\n`);
        return out(o.json || g().json ? JSON.stringify(inv.vms, null, 2) + '\n' : inventoryTable(inv.vms));
      }
      const labels = labelsFrom(o.label);
      const vms = await clientFrom(g()).listVms(labels ? { labels } : {});
      if (o.json || g().json) return out(JSON.stringify(vms, null, 2) + '\n');
      // Foreign VMs have no labels here; a daemon without endpoints (or a role that may not list them) shows only its own.
      const inv = labels ? undefined : await endpointClientFrom(g()).inventory({ fresh: o.fresh === true }).catch(() => undefined);
      const foreign = (inv?.vms ?? []).filter((r) => r.endpoint !== 'local');
      for (const e of inv?.errors ?? []) process.stderr.write(`warning: endpoint ${e.endpoint}: ${e.code}: ${e.message}${inv!.stale.includes(e.endpoint) ? ' (rows from the cache)' : ''}\n`);
      out(vmTable(vms, foreign));
    });

  vm.command('show <name>')
    .description('show one VM (NAME, or ENDPOINT/NAME for another hypervisor\'s)')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { json?: boolean }) => {
      const f = foreignRef(name);
      if (f) {
        const fv = await endpointClientFrom(g()).vm(f.endpoint, f.vm);
        return out(o.json || g().json ? JSON.stringify(fv, null, 2) + '\n' : foreignVmDetails(fv));
      }
      const v = await clientFrom(g()).getVm(localName(name));
      out(o.json || g().json ? JSON.stringify(v, null, 2) + '\n' : vmDetails(v));
    });

  const simple: Array<[VmActionName, string]> = [
    ['start', 'start (boot) a VM'],
    ['kill', 'stop a VM at once, like pulling the plug'],
    ['pause', 'pause the vCPUs (RAM stays in memory)'],
    ['resume', 'resume a paused VM, or restore a suspended one from disk'],
    ['reboot', 'reboot the guest (guest agent if it answers, else reset)'],
    ['suspend', 'save the VM\'s RAM to disk and stop its process (resume restores it)'],
  ];
  for (const [action, description] of simple) {
    addBulkOptions(vm.command(`${action} [name]`))
      .description(description)
      .option('--json', 'print JSON')
      .action(async (name: string | undefined, o: BulkFlags) => {
        if (name === undefined || o.label) return void (await runBulk(bulk(), action, { ...o, json: o.json || g().json }, {}, out));
        const f = foreignRef(name);
        if (f) return foreignAction(f, action);
        show(await clientFrom(g()).action(localName(name), action), o.json);
      });
  }

  addBulkOptions(vm.command('stop [name]'))
    .description('ask the guest to power off (ACPI), killing it after the timeout')
    .option('-t, --timeout <seconds>', 'seconds to wait before forcing', (v) => Number(v))
    .option('--force', 'kill at once')
    .option('--json', 'print JSON')
    .action(async (name: string | undefined, o: BulkFlags & { timeout?: number; force?: boolean }) => {
      const body = { ...(o.timeout !== undefined ? { timeoutSeconds: o.timeout } : {}), ...(o.force ? { force: true } : {}) };
      if (name === undefined || o.label) return void (await runBulk(bulk(), 'stop', { ...o, json: o.json || g().json }, body, out));
      const f = foreignRef(name);
      if (f) return foreignAction(f, o.force ? 'kill' : 'stop');
      name = localName(name);
      const notice = o.force ? undefined : waitNotice({ text: (s) => stopWaitText(name, o.timeout, s) });
      try {
        show(await clientFrom(g()).action(name, 'stop', body), o.json);
      } finally {
        notice?.done();
      }
    });

  vm.command('move <name>')
    .description('move a stopped VM to another hypervisor\'s endpoint (libvirt): its disks copied as qcow2, then the local VM removed')
    .requiredOption('--to <endpoint>', 'the endpoint (`polyvisor endpoint list`)')
    .option('--start', 'start it there once defined')
    .option('--keep', 'keep the local VM (a copy rather than a move)')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { to: string; start?: boolean; keep?: boolean; progress: boolean; json?: boolean }) => {
      const op = await endpointClientFrom(g()).moveAsync(name, { endpoint: o.to, ...(o.start ? { start: true } : {}), ...(o.keep ? { keep: true } : {}) });
      const done = await followOperation(platformFrom(g()), op, { failCode: 'ENDPOINT_TASK_FAILED', ...(o.progress === false ? { progress: false } : {}), text: () => `moving ${name} to ${o.to}` });
      const r = done.result as MoveOutView;
      out(o.json || g().json ? JSON.stringify(r, null, 2) + '\n'
        : `${name}: moved to ${r.vm.ref} (${r.vm.state}); copied ${r.copied.join(', ') || 'no disks'}${r.shared.length ? `; shared ${r.shared.join(', ')}` : ''}${r.localRemoved ? '' : '; the local VM is kept'}\n`);
    });

  vm.command('rm <name>')
    .alias('remove')
    .description('remove a stopped VM and the disks Polyvisor created for it')
    .option('--force', 'kill it first if it runs')
    .action(async (name: string, o: { force?: boolean }) => {
      try {
        await clientFrom(g()).removeVm(name, o.force ? { force: true } : {});
      } catch (err) {
        // Say the next command: the catalogue's hint is for every transition.
        if (!o.force && isPolyvisorError(err, 'INVALID_TRANSITION')) {
          throw new PolyvisorError('INVALID_TRANSITION', err.message, {
            cause: err,
            hint: `Stop it first (\`polyvisor vm stop ${name}\`), or kill and remove it in one go with \`polyvisor vm rm ${name} --force\`.`,
          });
        }
        throw err;
      }
      out(`${name}: removed\n`);
    });

  registerHistoryCommand(vm, g, out);
  registerGuestCommand(vm, g, out);
  registerNicCommands(vm, g, out);
  registerResizeCommand(vm, g, out);
}
