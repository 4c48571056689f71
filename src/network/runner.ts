/**
 * The commands the host plumbing runs (ip, bridge, nft, dnsmasq, tc,
 * sysctl): argv arrays only, through shared/spawn. Injectable, so unit tests
 * record the commands, and namespace-aware: with `netns` every command runs
 * under `ip netns exec NS` (tests; a daemon confined to a namespace).
 */
import { PolyvisorError, run, type RunResult } from '../shared/index.js';

export interface CommandRunner {
  /** Runs the command; exit status other than 0 rejects with NETWORK_HOST_FAILED unless `allowFail`. */
  run(cmd: string, args: readonly string[], opts?: { input?: string; allowFail?: boolean }): Promise<RunResult>;
}

export interface HostRunnerOptions {
  /** Run every command inside this network namespace (`ip netns exec NS …`). */
  netns?: string;
  timeoutMs?: number;
}

export function hostCommandRunner(opts: HostRunnerOptions = {}): CommandRunner {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return {
    async run(cmd, args, o = {}) {
      const [bin, argv] = opts.netns === undefined ? [cmd, [...args]] : ['ip', ['netns', 'exec', opts.netns, cmd, ...args]];
      const r = await run(bin, argv, { timeoutMs, input: o.input, missingCode: 'NETWORK_HOST_FAILED' });
      if (r.code !== 0 && !o.allowFail) {
        const tail = r.stderr.trim().split('\n').slice(-3).join('; ');
        throw new PolyvisorError('NETWORK_HOST_FAILED', `${cmd} ${args.join(' ')} exited with ${r.code ?? r.signal}: ${tail}`);
      }
      return r;
    },
  };
}
