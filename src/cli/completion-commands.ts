/** `polyvisor completion bash|zsh|fish` and the hidden `__complete` that its scripts call back. */
import type { Command } from 'commander';
import { PolyvisorClient, SnapshotClient, StorageClient } from '../client/index.js';
import { fail } from '../shared/index.js';
import { complete, type CompletionSources } from './complete.js';
import { SHELLS, completionScript, type Shell } from './completion-scripts.js';
import { connectionFrom, type GlobalOptions } from './context.js';
import { LOCAL_REMOTE, readRemotes } from './remotes.js';

/** A completion waits this long for the daemon at most, then offers nothing. */
const DAEMON_TIMEOUT_MS = 2_000;

function daemonSources(g: GlobalOptions): CompletionSources {
  const conn = () => {
    const c = connectionFrom(g);
    return { endpoint: c.endpoint, ...(c.token ? { token: c.token } : {}), timeoutMs: DAEMON_TIMEOUT_MS };
  };
  const names = (xs: Array<{ name?: unknown }>): string[] => xs.map((x) => x.name).filter((n): n is string => typeof n === 'string');
  return {
    vms: async () => names(await new PolyvisorClient(conn()).listVms()),
    snapshots: async (vm) => names((await new SnapshotClient(conn()).list(vm)).snapshots),
    pools: async () => names(await new StorageClient(conn()).listPools() as Array<{ name?: unknown }>),
    remotes: async () => [LOCAL_REMOTE, ...Object.keys(readRemotes().remotes)],
  };
}

export function registerCompletionCommands(program: Command, out: (s: string) => void, fullTree: () => Command): void {
  program
    .command('completion <shell>')
    .description(`print a shell completion script (${SHELLS.join('|')}); e.g. source <(polyvisor completion bash)`)
    .action((shell: string) => {
      if (!(SHELLS as readonly string[]).includes(shell)) fail('INVALID_ARGUMENT', `no completion for shell "${shell}"; choose ${SHELLS.join(', ')}`);
      out(completionScript(shell as Shell));
    });

  program
    .command('__complete', { hidden: true })
    .description('print completions for the words after `--` (used by the completion scripts)')
    .argument('[words...]')
    .allowUnknownOption()
    .action(async (words: string[] | undefined) => {
      try {
        const found = await complete(fullTree(), words ?? [], daemonSources);
        if (found.length) out(`${found.join('\n')}\n`);
      } catch {
        // Completion stays silent: no daemon, no remotes file, a timeout — offer nothing.
      }
    });
}
