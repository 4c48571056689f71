/** `polyvisor secret set|list|rm|rotate-key`: the daemon's secrets store (admin). Values never come from argv. */
import type { Command } from 'commander';
import { platformFrom, type GlobalOptions } from './context.js';
import { table } from './format.js';
import { readSecretFile, readSecretFromStdin } from './secret-input.js';

export function registerSecretCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const json = (o: { json?: boolean }): boolean => Boolean(o.json || g().json);
  const secret = program.command('secret').description('the secrets store: values encrypted at rest, never shown again (admin)');

  secret.command('set <name>')
    .description('store a secret; the value is read from standard input (one trailing newline dropped) or --from-file (as is), never from the command line')
    .option('--from-file <file>', 'read the value from this file, byte for byte')
    .action(async (name: string, o: { fromFile?: string }) => {
      const value = o.fromFile !== undefined
        ? await readSecretFile(o.fromFile, 'secret value', { trimNewline: false })
        : await readSecretFromStdin('secret value');
      const r = await platformFrom(g()).setSecret(name, value);
      out(`${r.name}: stored\n`);
    });

  secret.command('list')
    .alias('ls')
    .description('list secrets: names and times, never values')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await platformFrom(g()).listSecrets();
      out(json(o) ? JSON.stringify(list, null, 2) + '\n' : table(['NAME', 'CREATED', 'UPDATED'], list.map((s) => [s.name, s.createdAt, s.updatedAt])));
    });

  secret.command('rm <name>')
    .alias('remove')
    .description('remove a secret')
    .action(async (name: string) => {
      await platformFrom(g()).removeSecret(name);
      out(`${name}: removed\n`);
    });

  secret.command('rotate-key')
    .description('re-encrypt every secret under a new key, all or nothing')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const r = await platformFrom(g()).rotateSecretKey();
      out(json(o) ? JSON.stringify(r, null, 2) + '\n' : `secrets key rotated: ${r.secrets} secret(s) re-encrypted under key ${r.key}\n`);
    });
}
