/** `polyvisor cluster init|join|status|leave|token create`: cluster membership (issue 19; docs/cluster.md). */
import type { Command } from 'commander';
import { ClusterClient, type ClusterSetupView, type ClusterStatusView, type RebalanceView } from '../client/index.js';
import { fail, PolyvisorError } from '../shared/index.js';
import { connectionFrom, platformFrom, type GlobalOptions } from './context.js';
import { followOperation } from './follow-operation.js';
import { table } from './format.js';
import { hostTable } from './host-commands.js';

const UNIT_S: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** "90s", "30m", "1h", "7d" → seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d{1,7})([smhd])$/.exec(text.trim());
  if (!m) fail('INVALID_ARGUMENT', `--ttl ${JSON.stringify(text)} must be a span like 30m, 1h or 2d (at most 7d)`);
  return Number(m[1]) * UNIT_S[m[2]!]!;
}

function setupText(s: ClusterSetupView, what: string): string {
  return `${s.host}: ${what} (etcd ${s.endpoints.join(', ')}, prefix ${s.prefix})\n`
    + (s.copiedVms || s.copiedTokens ? `copied into etcd: ${s.copiedVms} VM(s), ${s.copiedTokens} API token(s)\n` : '')
    + `wrote ${s.configFile}; restart the daemon (polyvisord) for it to take effect\n`;
}

export function statusText(s: ClusterStatusView): string {
  if (!s.clustered) return `${s.host}: not a cluster member (single host; polyvisor cluster init --etcd URLS makes a cluster)\n`;
  return `cluster on etcd prefix ${s.prefix}, lease TTL ${s.leaseTtlSeconds} s, HA leader: ${s.leader ?? '(none)'}\n\n`
    + table(['ETCD ENDPOINT', 'HEALTH'], s.etcd.map((e) => [e.endpoint, e.healthy ? 'healthy' : `unhealthy: ${e.error ?? ''}`])) + '\n'
    + hostTable(s.members);
}

const pct = (n: number): string => `${Math.round(n * 100)}%`;

/** The hosts' loads, the imbalance and each move (with its outcome after a run). */
export function rebalanceText(r: RebalanceView): string {
  const head = `imbalance ${pct(r.imbalanceBefore)} -> ${pct(r.imbalanceAfter)} (threshold ${pct(r.threshold)}); ${r.stopped}\n`;
  const loads = table(['HOST', 'LOAD', 'AFTER'], r.loads.map((l) => [l.host, pct(l.before), pct(l.after)]));
  const moves = r.moves.length === 0 ? 'no moves\n'
    : table(['VM', 'FROM', 'TO', 'STATE'], r.moves.map((m) => [m.vm, `${m.from} (${pct(m.loads.from[0])} -> ${pct(m.loads.from[1])})`, `${m.to} (${pct(m.loads.to[0])} -> ${pct(m.loads.to[1])})`, m.error ? `${m.state}: ${m.error}` : m.state]));
  return head + loads + moves + `${r.state}${r.dryRun ? ' (dry run: nothing moved)' : ''}\n`;
}

export function registerClusterCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = (): ClusterClient => new ClusterClient(connectionFrom(g()));
  const cluster = program.command('cluster').description('cluster membership on etcd: init, join, status, leave, join tokens (docs/cluster.md)');

  cluster.command('init')
    .description('make this host the first member of a cluster on etcd (its VMs and API tokens are copied there); takes effect when the daemon restarts')
    .requiredOption('--etcd <urls>', 'etcd client URLs, comma-separated (http://10.0.0.1:2379,…)')
    .option('--prefix <prefix>', 'etcd key prefix of the cluster (default /polyvisor/v1/)')
    .option('--json', 'print JSON')
    .action(async (o: { etcd: string; prefix?: string; json?: boolean }) => {
      const s = await client().init(o.etcd.split(',').map((x) => x.trim()).filter(Boolean), o.prefix);
      out(o.json || g().json ? JSON.stringify(s, null, 2) + '\n' : setupText(s, 'cluster created'));
    });

  cluster.command('join <address>')
    .description('join this (empty) host to the cluster of the member at ADDRESS (its API URL) with a join token made there; takes effect when the daemon restarts')
    .requiredOption('--token <token>', 'a join token (polyvisor cluster token create, on a member)')
    .option('--fingerprint <sha256>', 'https: the SHA-256 fingerprint of the member\'s certificate')
    .option('--json', 'print JSON')
    .action(async (address: string, o: { token: string; fingerprint?: string; json?: boolean }) => {
      const s = await client().join(address, o.token, o.fingerprint);
      out(o.json || g().json ? JSON.stringify(s, null, 2) + '\n' : setupText(s, 'admitted'));
    });

  cluster.command('status')
    .description('members with state and lease age, the HA leader, the health of each etcd member')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const s = await client().status();
      out(o.json || g().json ? JSON.stringify(s, null, 2) + '\n' : statusText(s));
    });

  cluster.command('leave')
    .description('this host leaves the cluster: refused while it owns VMs (drain it first) unless --force; disarms its watchdog and revokes its lease')
    .option('--force', 'leave although this host still owns VMs (they keep running, unfenced)')
    .option('--json', 'print JSON')
    .action(async (o: { force?: boolean; json?: boolean }) => {
      const s = await client().leave(o.force === true);
      out(o.json || g().json ? JSON.stringify(s, null, 2) + '\n'
        : `${s.host}: left the cluster${s.abandonedVms.length ? ` (still owning ${s.abandonedVms.join(', ')})` : ''}; restart the daemon to run as a single host\n`);
    });

  const token = cluster.command('token').description('join tokens: each admits one host and expires');
  token.command('create')
    .description('a join token for one new host (shown once)')
    .option('--ttl <span>', 'lifetime: 30m, 1h, 2d … (at most 7d)', '1h')
    .option('--json', 'print JSON')
    .action(async (o: { ttl: string; json?: boolean }) => {
      const t = await client().createToken(parseTtl(o.ttl));
      out(o.json || g().json ? JSON.stringify(t, null, 2) + '\n' : `${t.token}\nexpires ${t.expiresAt}; on the new host: polyvisor cluster join ADDRESS --token TOKEN\n`);
    });

  cluster.command('rebalance')
    .description('move running VMs live from the most to the least loaded ready hosts until the imbalance (highest minus lowest host load; a load is the larger of the CPU and memory shares allocated) is within the threshold; anti-affinity, host pools and cordons are respected, no VM moves twice')
    .option('--dry-run', 'only print the plan')
    .option('--threshold <fraction>', 'imbalance above which VMs move, 0-1 (default 0.2)')
    .option('--concurrency <n>', 'live moves at once (default 2)')
    .option('--no-progress', 'no progress bar')
    .option('--json', 'print JSON')
    .action(async (o: { dryRun?: boolean; threshold?: string; concurrency?: string; progress?: boolean; json?: boolean }) => {
      const num = (flag: string, v: string | undefined) => {
        if (v === undefined) return undefined;
        const n = Number(v);
        if (!Number.isFinite(n)) fail('INVALID_ARGUMENT', `--${flag} must be a number, not ${JSON.stringify(v)}`);
        return n;
      };
      const threshold = num('threshold', o.threshold);
      const concurrency = num('concurrency', o.concurrency);
      const opts = { ...(threshold !== undefined ? { threshold } : {}), ...(concurrency !== undefined ? { concurrency } : {}) };
      let r: RebalanceView;
      if (o.dryRun) r = await client().rebalancePlan(threshold !== undefined ? { threshold } : {});
      else {
        const op = await followOperation(platformFrom(g()), await client().rebalance(opts), {
          failCode: 'MIGRATION_FAILED', ...(o.progress === false ? { progress: false } : {}), text: () => 'rebalancing',
        });
        r = op.result as RebalanceView;
      }
      out(o.json || g().json ? JSON.stringify(r, null, 2) + '\n' : rebalanceText(r));
      if (r.state === 'failed') {
        const failed = r.moves.filter((m) => m.state === 'failed');
        throw new PolyvisorError('MIGRATION_FAILED', `${failed.length} of ${r.moves.length} move(s) failed: ${failed.map((m) => `${m.vm} (${m.error ?? '?'})`).join('; ')}`);
      }
    });
}
