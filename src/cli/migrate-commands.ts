/** `polyvisor vm migrate NAME …` with a progress bar on stderr, and its cancel / post-copy / status companions. */
import type { Command } from 'commander';
import { MigrationClient, type MigrateRequest, type MigrationResultView, type MigrationStatus, type PostcopyModeName } from '../client/index.js';
import { fail, sleep } from '../shared/index.js';
import { endpointFrom, tokenFrom, type GlobalOptions } from './context.js';
import { mib, ProgressBar } from './progress-bar.js';
import { getRemote, readRemotes } from './remotes.js';

interface MigrateFlags {
  downtimeMs?: string;
  bandwidth?: string;
  postcopy?: string | boolean;
  autoConverge?: boolean;
  multifd?: string;
  xbzrle?: boolean;
  forceUnsafe?: boolean;
  timeout?: string;
  progress?: boolean;
  json?: boolean;
  to?: string;
  toPeer?: string;
  toHost?: string;
  tls?: boolean;
  diskMirror?: string;
  mirrorStall?: string;
  diskBandwidth?: string;
}

const POSTCOPY = ['off', 'manual', 'after-precopy', 'auto'];
const DISK_MIRROR = ['auto', 'background', 'write-blocking'];

function intFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) fail('INVALID_ARGUMENT', `--${name} must be a whole number, not ${JSON.stringify(v)}`);
  return n;
}

export function migrateRequest(f: MigrateFlags): MigrateRequest {
  const r: MigrateRequest = {};
  const set = <K extends keyof MigrateRequest>(k: K, v: MigrateRequest[K] | undefined): void => {
    if (v !== undefined) r[k] = v;
  };
  set('downtimeMs', intFlag('downtime-ms', f.downtimeMs));
  set('bandwidthMiBps', intFlag('bandwidth', f.bandwidth));
  set('multifd', intFlag('multifd', f.multifd));
  set('timeoutSeconds', intFlag('timeout', f.timeout));
  if (f.postcopy !== undefined) {
    const mode = f.postcopy === true ? 'after-precopy' : String(f.postcopy);
    if (!POSTCOPY.includes(mode)) fail('INVALID_ARGUMENT', `--postcopy takes one of ${POSTCOPY.join(', ')}`);
    r.postcopy = mode as PostcopyModeName;
  }
  set('autoConverge', f.autoConverge);
  set('xbzrle', f.xbzrle);
  if (f.forceUnsafe) r.forceUnsafe = true;
  if ([f.to, f.toPeer, f.toHost].filter((x) => x !== undefined).length > 1) fail('INVALID_ARGUMENT', 'give one of --to REMOTE, --to-peer PEER or --to-host HOST');
  if (f.to !== undefined) r.target = targetOf(f.to);
  if (f.toPeer !== undefined) r.peer = f.toPeer;
  if (f.toHost !== undefined) r.host = f.toHost;
  if (f.tls !== undefined) {
    if (!r.target && !r.peer && !r.host) fail('INVALID_ARGUMENT', '--tls and --no-tls apply to moves to another host: give --to-peer PEER or --to REMOTE');
    r.tls = f.tls;
  }
  if (f.diskMirror !== undefined || f.mirrorStall !== undefined || f.diskBandwidth !== undefined) {
    if (!r.target && !r.peer && !r.host) fail('INVALID_ARGUMENT', '--disk-mirror, --mirror-stall and --disk-bandwidth apply to moves to another host: give --to-peer PEER or --to REMOTE');
    if (f.diskMirror !== undefined && !DISK_MIRROR.includes(f.diskMirror)) fail('INVALID_ARGUMENT', `--disk-mirror takes one of ${DISK_MIRROR.join(', ')}`);
    if (f.diskMirror !== undefined) r.diskMirror = f.diskMirror as NonNullable<MigrateRequest['diskMirror']>;
    set('mirrorStallSeconds', intFlag('mirror-stall', f.mirrorStall));
    set('diskBandwidthMiBps', intFlag('disk-bandwidth', f.diskBandwidth));
  }
  return r;
}

/** A remote of `polyvisor remote add` (its URL, token and pinned fingerprint) as a migration target. */
function targetOf(name: string): NonNullable<MigrateRequest['target']> {
  const r = getRemote(readRemotes(), name);
  if (!r.token) fail('INVALID_ARGUMENT', `remote ${name} has no token; the target needs one with vm:migrate-in (operator or admin): polyvisor remote add ${name} URL --token …`);
  return { url: r.url, token: r.token, ...(r.fingerprint ? { tlsFingerprint: r.fingerprint } : {}) };
}

function describe(s: MigrationStatus): { fraction: number; text: string } {
  const p = s.progress;
  const d = s.disks;
  if (d && (s.phase === 'mirroring' || s.phase === 'copying')) {
    return { fraction: d.totalBytes ? d.doneBytes / d.totalBytes : 0, text: `${s.phase} disks  ${mib(d.doneBytes)} of ${mib(d.totalBytes)}  ${d.readyDisks}/${d.disks} in sync` };
  }
  if (!p) return { fraction: 0, text: s.phase };
  const done = p.totalBytes ? 1 - p.remainingBytes / p.totalBytes : 0;
  const dirty = (p.dirtyPagesRate * p.pageSize) / 1024 ** 2;
  const parts = [`${s.phase}`, `sent ${mib(p.transferredBytes)}`, `left ${mib(p.remainingBytes)}`, `pass ${p.iteration}`, `dirty ${dirty.toFixed(0)} MiB/s`];
  if (p.expectedDowntimeMs !== undefined) parts.push(`exp. downtime ${p.expectedDowntimeMs} ms`);
  if (p.cpuThrottlePercent) parts.push(`throttle ${p.cpuThrottlePercent}%`);
  return { fraction: done, text: parts.join('  ') };
}

function summary(r: MigrationResultView): string {
  const s = r.stats;
  if (r.mode === 'offline') return `${r.vm}: moved offline to ${r.target?.host} (${r.state}), ${mib(s.transferredBytes)} copied in ${r.wallMs} ms\n`;
  return [
    `${r.vm}: ${r.state} in pid ${r.targetPid}${r.target ? ` on ${r.target.host}` : ''} (was pid ${r.sourcePid})`,
    `  total ${s.totalTimeMs} ms, downtime ${s.downtimeMs} ms, ${mib(s.transferredBytes)} sent in ${s.iterations} passes${s.postcopy ? ', post-copy' : ''}${s.cpuThrottlePercent ? `, throttled up to ${s.cpuThrottlePercent}%` : ''}`,
    `  policy: ${r.explanation}`,
    ...r.warnings.map((w) => `  warning: ${w}`),
  ].join('\n') + '\n';
}

export function registerMigrateCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = (): MigrationClient => {
    const token = tokenFrom(g()); // POLYVISOR_TOKEN, else the chosen remote's token
    return new MigrationClient({ endpoint: endpointFrom(g()), ...(token ? { token } : {}) });
  };
  const vm = program.commands.find((c) => c.name() === 'vm') ?? program.command('vm');

  vm.command('migrate <name>')
    .description('live-migrate a running VM into a new QEMU process, or with --to to another host (live, or offline if stopped/suspended)')
    .option('--to-peer <peer>', 'move to a daemon an admin registered on this one (polyvisor peer list)')
    .option('--to-host <host>', 'move to this host of the cluster (polyvisor host list), if the scheduler\'s filters accept it; the cluster\'s own credential is used')
    .option('--to <remote>', 'admins: move to the daemon of this remote (polyvisor remote add; its token needs the peer role there)')
    .option('--tls', 'encrypt the stream and disk mirrors to the other host (per-migration certificates; the default for live moves)')
    .option('--no-tls', 'live moves to another host: send the stream and disk mirrors in plain text (a link you trust; saves CPU)')
    .option('--disk-mirror <mode>', `how disks the other host cannot see are mirrored: ${DISK_MIRROR.join(', ')} (default auto: write-blocking once a mirror stops gaining)`)
    .option('--mirror-stall <seconds>', 'auto: seconds a background mirror may gain nothing before it goes write-blocking (default 10)')
    .option('--disk-bandwidth <MiBps>', "cap each disk mirror's background copy (default unlimited)")
    .option('--downtime-ms <n>', 'longest pause at switch-over (default 50)')
    .option('--bandwidth <MiBps>', 'cap the stream (default unlimited on one host)')
    .option('--postcopy [mode]', `allow post-copy: ${POSTCOPY.join(', ')} (no value: after-precopy)`)
    .option('--auto-converge', 'throttle vCPUs if the guest outruns the stream (default on unless post-copy)')
    .option('--no-auto-converge', 'never throttle vCPUs')
    .option('--multifd <channels>', 'parallel streams')
    .option('--xbzrle', 'delta-compress re-sent pages')
    .option('--force-unsafe', "migrate even where QEMU's TCG dirty-bitmap bug can corrupt the guest")
    .option('--timeout <seconds>', 'give up and roll back after this long (default 600)')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print JSON')
    .action(async (name: string, f: MigrateFlags) => {
      const c = client();
      const bar = f.progress === false ? undefined : new ProgressBar();
      let finished = false;
      const poll = (async () => {
        while (!finished && bar) {
          await sleep(250);
          const s = await c.status(name).catch(() => undefined);
          if (s && !finished) bar.update(describe(s));
        }
      })();
      try {
        const r = await c.migrate(name, migrateRequest(f));
        finished = true;
        await poll;
        bar?.update({ fraction: 1, text: 'done' });
        bar?.done();
        out(f.json || g().json ? JSON.stringify(r, null, 2) + '\n' : summary(r));
      } finally {
        finished = true;
        bar?.done();
      }
    });

  vm.command('migrate-status <name>')
    .description('progress of a running migration')
    .action(async (name: string) => out(JSON.stringify(await client().status(name), null, 2) + '\n'));

  vm.command('migrate-cancel <name>')
    .description('cancel a running migration before its switch-over; the VM keeps running where it was')
    .action(async (name: string) => {
      await client().cancel(name);
      out(`${name}: cancel requested\n`);
    });

  vm.command('migrate-postcopy <name>')
    .description('switch a running migration (started with --postcopy manual) to post-copy now')
    .action(async (name: string) => {
      await client().startPostcopy(name);
      out(`${name}: switch to post-copy requested\n`);
    });
}
