/** `polyvisor token create|list|revoke` and `polyvisor audit`: admin commands. */
import type { Command } from 'commander';
import { ROLES, fail, type Role } from '../shared/index.js';
import { platformFrom, type GlobalOptions } from './context.js';
import { table } from './format.js';
import { parseTimeArg } from './time-arg.js';

export function registerTokenCommands(program: Command, out: (s: string) => void): void {
  const g = (): GlobalOptions => program.opts<GlobalOptions>();
  const json = (o: { json?: boolean }): boolean => Boolean(o.json || g().json);
  const token = program.command('token').description('API tokens for TCP clients (admin)');

  token.command('create <name>')
    .description('create a token; its secret is printed once and never again')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--expires <when>', 'stop working after this: a span from now (90d, 12h) or a date (2027-01-31); default never')
    .option('--json', 'print JSON')
    .action(async (name: string, o: { role: string; expires?: string; json?: boolean }) => {
      if (!(ROLES as readonly string[]).includes(o.role)) fail('INVALID_ARGUMENT', `--role must be one of ${ROLES.join(', ')}`);
      const expiresAt = o.expires === undefined ? undefined : parseTimeArg(o.expires, '--expires', 'ahead');
      const t = await platformFrom(g()).createToken(name, o.role as Role, expiresAt);
      if (json(o)) return out(JSON.stringify(t, null, 2) + '\n');
      out(`${t.token}\n`);
      process.stderr.write(`Token ${t.name} (${t.role}) created${t.expiresAt ? `, valid until ${t.expiresAt}` : ''}. Store it now: it is not shown again.\n`);
    });

  token.command('list')
    .alias('ls')
    .description('list tokens (names, roles, prefixes; never secrets)')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const list = await platformFrom(g()).listTokens();
      out(json(o) ? JSON.stringify(list, null, 2) + '\n' : table(['NAME', 'ROLE', 'PREFIX', 'CREATED', 'LAST USED', 'EXPIRES'], list.map((t) => [t.name, t.role, t.prefix, t.createdAt, t.lastUsedAt ?? '-', t.expiresAt ?? 'never'])));
    });

  token.command('revoke <name>')
    .alias('rm')
    .description('revoke a token: it stops working at once')
    .action(async (name: string) => {
      await platformFrom(g()).revokeToken(name);
      out(`${name}: revoked\n`);
    });

  const audit = program.command('audit').description('the audit log (admin): every state-changing request and every refusal');
  audit.command('list', { isDefault: true })
    .alias('ls')
    .description('audit entries, newest first')
    .option('--since <when>', 'only entries since then: a span ago (1h, 7d) or a date (2026-12-01)')
    .option('--actor <name>', 'only this token name (or "local")')
    .option('--resource <name>', 'only this resource (VM, token, operation)')
    .option('-n, --limit <n>', 'at most this many entries (default 100)', (v) => Number(v))
    .option('--json', 'print JSON')
    .action(async (o: { since?: string; actor?: string; resource?: string; limit?: number; json?: boolean }) => {
      const since = o.since === undefined ? undefined : parseTimeArg(o.since, '--since', 'ago');
      const list = await platformFrom(g()).audit({ actor: o.actor, resource: o.resource, limit: o.limit, since });
      out(json(o) ? JSON.stringify(list, null, 2) + '\n' : table(['TIME', 'ACTOR', 'ACTION', 'RESOURCE', 'OUTCOME', 'STATUS'], list.map((e) => [e.at, e.actor, e.action, e.resource ?? '-', e.outcome, String(e.status)])));
    });
}
