/** `polyvisor peer add|list|rm`: the daemons this one may move VMs to (admins register them; docs/migration.md). */
import type { Command } from 'commander';
import { MigrationClient } from '../client/index.js';
import { fail } from '../shared/index.js';
import { endpointFrom, tokenFrom, type GlobalOptions } from './context.js';
import { table } from './format.js';
import { readSecretFile, readSecretFromStdin } from './secret-input.js';

export function registerPeerCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const client = (): MigrationClient => {
    const token = tokenFrom(g());
    return new MigrationClient({ endpoint: endpointFrom(g()), ...(token ? { token } : {}) });
  };
  const peer = program.command('peer').description('daemons VMs may be moved to (operators move VMs to these by name: vm migrate --to-peer)');

  peer.command('add <name> <url>')
    .description('register (or replace) a daemon at URL with a token of its peer role (admin)')
    .option('--token-file <file>', 'read the target\'s peer token from this file')
    .option('--token-stdin', 'read the target\'s peer token from standard input')
    .option('--fingerprint <sha256>', 'https: the SHA-256 fingerprint of the target\'s certificate, pinned')
    .action(async (name: string, url: string, o: { tokenFile?: string; tokenStdin?: boolean; fingerprint?: string }) => {
      if ((o.tokenFile === undefined) === (o.tokenStdin !== true)) fail('INVALID_ARGUMENT', 'give the target\'s peer token with exactly one of --token-file FILE or --token-stdin');
      const token = o.tokenFile !== undefined ? await readSecretFile(o.tokenFile, 'peer token', { trimNewline: true }) : await readSecretFromStdin('peer token');
      const p = await client().addPeer(name, { url, token, ...(o.fingerprint ? { tlsFingerprint: o.fingerprint } : {}) });
      out(`peer ${p.name}: ${p.url}\n`);
    });

  peer.command('list')
    .alias('ls')
    .description('registered peers: names, URLs and fingerprints (never tokens)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await client().listPeers();
      out(o.json || g().json ? JSON.stringify(list, null, 2) + '\n' : table(['NAME', 'URL', 'FINGERPRINT', 'UPDATED'], list.map((p) => [p.name, p.url, p.tlsFingerprint ?? '-', p.updatedAt])));
    });

  peer.command('rm <name>')
    .alias('remove')
    .description('forget a peer (admin)')
    .action(async (name: string) => {
      await client().removePeer(name);
      out(`peer ${name}: removed\n`);
    });
}
