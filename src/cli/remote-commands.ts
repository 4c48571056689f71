/** `polyvisor remote add|list|remove|default`: named daemons (docs/cli.md). */
import type { Command } from 'commander';
import { fail, validateName } from '../shared/index.js';
import { table } from './format.js';
import { readSecretFile, readSecretFromStdin } from './secret-input.js';
import { LOCAL_REMOTE, checkRemoteUrl, configDir, getRemote, readRemotes, writeRemotes } from './remotes.js';

export function registerRemoteCommands(program: Command, out: (s: string) => void): void {
  const remote = program.command('remote').description(`named daemons; "${LOCAL_REMOTE}" is this host's unix socket`);

  remote.command('add <name> <url>')
    .description('add a daemon reachable at URL (https://HOST:PORT whose certificate is pinned, or http:// on loopback) with an API token')
    .option('--token-file <file>', 'read the API token from this file')
    .option('--token-stdin', 'read the API token from standard input')
    .option('--token <token>', 'API token on the command line (visible in ps and shell history: prefer --token-file or --token-stdin)')
    .option('--default', 'make it the default remote')
    .option('--accept-certificate', 'https: pin the certificate the daemon presents without asking')
    .option('--fingerprint <sha256>', 'https: pin only if the certificate has this SHA-256 fingerprint')
    .option('--insecure-http', 'accept an http:// URL of another machine (the token crosses the network in clear)')
    .action(async (name: string, url: string, o: { token?: string; tokenFile?: string; tokenStdin?: boolean; default?: boolean; acceptCertificate?: boolean; fingerprint?: string; insecureHttp?: boolean }) => {
      validateName(name, 'remote name');
      if (name === LOCAL_REMOTE) fail('INVALID_ARGUMENT', `"${LOCAL_REMOTE}" is reserved for this host's unix socket`);
      const token = await tokenOption(o);
      const doc = readRemotes();
      const checked = checkRemoteUrl(url, { insecureHttp: o.insecureHttp === true });
      const fingerprint = checked.startsWith('https:') ? await pinCertificate(checked, o, (s) => void process.stderr.write(s)) : undefined;
      doc.remotes[name] = { url: checked, ...(token ? { token } : {}), ...(fingerprint ? { fingerprint } : {}) };
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

/** The token from --token-file, --token-stdin or (with a warning) --token; at most one of them. */
async function tokenOption(o: { token?: string; tokenFile?: string; tokenStdin?: boolean }): Promise<string | undefined> {
  const given = [o.token !== undefined, o.tokenFile !== undefined, o.tokenStdin === true].filter(Boolean).length;
  if (given > 1) fail('INVALID_ARGUMENT', 'give the token one way only: --token-file, --token-stdin or --token');
  if (o.tokenFile !== undefined) return readSecretFile(o.tokenFile, 'API token', { trimNewline: true });
  if (o.tokenStdin) return readSecretFromStdin('API token');
  if (o.token !== undefined) {
    process.stderr.write('warning: --token puts the token where `ps` and your shell history show it; use --token-file FILE or --token-stdin instead\n');
  }
  return o.token;
}

/**
 * Shows the certificate an https:// daemon presents and returns its fingerprint
 * once accepted: by --fingerprint (must match), --accept-certificate, or an
 * interactive yes. Without a terminal and without either flag it refuses.
 */
async function pinCertificate(url: string, o: { acceptCertificate?: boolean; fingerprint?: string }, say: (s: string) => void): Promise<string> {
  const { fetchCertificate, formatFingerprint, normalizeFingerprint } = await import('../client/index.js');
  const cert = await fetchCertificate(url);
  say(`Certificate of ${url} (${cert.subject}, valid until ${cert.validTo})\nSHA-256 fingerprint: ${formatFingerprint(cert.fingerprint)}\n`);
  if (o.fingerprint !== undefined) {
    const want = normalizeFingerprint(o.fingerprint);
    if (want !== cert.fingerprint) fail('CERTIFICATE_MISMATCH', `${url} presented fingerprint ${cert.fingerprint}, not ${want}`);
    return cert.fingerprint;
  }
  if (o.acceptCertificate) return cert.fingerprint;
  if (!process.stdin.isTTY) {
    fail('CERTIFICATE_UNTRUSTED', `the certificate of ${url} was not accepted: compare the fingerprint above with the one polyvisord logged, then add --accept-certificate (or --fingerprint SHA256)`);
  }
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question('Trust this certificate? (yes/no) ')).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') fail('CERTIFICATE_UNTRUSTED', `the certificate of ${url} was not accepted`);
  } finally {
    rl.close();
  }
  return cert.fingerprint;
}
