/** `polyvisor remote add|list|remove|default`: named daemons (docs/cli.md). */
import type { Command } from 'commander';
import { fail, validateName } from '../shared/index.js';
import { table } from './format.js';
import { LOCAL_REMOTE, checkRemoteUrl, configDir, getRemote, readRemotes, writeRemotes } from './remotes.js';

export function registerRemoteCommands(program: Command, out: (s: string) => void): void {
  const remote = program.command('remote').description(`named daemons; "${LOCAL_REMOTE}" is this host's unix socket`);

  remote.command('add <name> <url>')
    .description('add a daemon reachable at URL (http://HOST:PORT) with an API token')
    .option('--token <token>', 'API token (or POLYVISOR_TOKEN when running commands)')
    .option('--default', 'make it the default remote')
    .action(async (name: string, url: string, o: { token?: string; default?: boolean }) => {
      validateName(name, 'remote name');
      if (name === LOCAL_REMOTE) fail('INVALID_ARGUMENT', `"${LOCAL_REMOTE}" is reserved for this host's unix socket`);
      const doc = readRemotes();
      doc.remotes[name] = { url: checkRemoteUrl(url), ...(o.token ? { token: o.token } : {}) };
      if (o.default) doc.default = name;
      await writeRemotes(doc);
      out(`${name}: added${o.default ? ' (default)' : ''}\n`);
    });

  remote.command('list')
    .alias('ls')
    .option('--json', 'print JSON (tokens left out)')
    .description('list remotes')
    .action((o: { json?: boolean }) => {
      const doc = readRemotes();
      const def = doc.default ?? LOCAL_REMOTE;
      const rows = [[LOCAL_REMOTE, 'unix socket', '-'], ...Object.entries(doc.remotes).map(([n, r]) => [n, r.url, r.token ? 'yes' : 'no'])];
      if (o.json) return out(JSON.stringify({ default: def, remotes: rows.map(([name, url, token]) => ({ name, url, token: token === 'yes' })) }, null, 2) + '\n');
      out(table(['NAME', 'URL', 'TOKEN', 'DEFAULT'], rows.map((r) => [...r as [string, string, string], r[0] === def ? '*' : ''])));
    });

  remote.command('remove <name>')
    .alias('rm')
    .description('forget a remote')
    .action(async (name: string) => {
      const doc = readRemotes();
      getRemote(doc, name);
      delete doc.remotes[name];
      if (doc.default === name) delete doc.default;
      await writeRemotes(doc);
      out(`${name}: removed\n`);
    });

  remote.command('default [name]')
    .description(`show or set the default remote ("${LOCAL_REMOTE}" for the unix socket)`)
    .action(async (name?: string) => {
      const doc = readRemotes();
      if (name === undefined) return out(`${doc.default ?? LOCAL_REMOTE}\n`);
      if (name !== LOCAL_REMOTE) getRemote(doc, name);
      doc.default = name;
      await writeRemotes(doc);
      out(`default remote: ${name} (${configDir()})\n`);
    });
}
