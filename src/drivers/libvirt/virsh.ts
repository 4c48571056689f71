/**
 * virsh, one process per call, argv arrays only (never a shell, never virsh's
 * own command-line parser for anything a user named). XML goes through files
 * in a private 0700 directory. Failures are mapped to the catalogue by
 * virsh-errors.ts. Why virsh and not libvirt's RPC protocol or libvirt-dbus:
 * docs/drivers-libvirt.md (measured).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { run } from '../../shared/index.js';
import { VIRSH_TIMEOUT_MS } from './timeouts.js';
import { virshError } from './virsh-errors.js';
import { VirshShell } from './virsh-shell.js';

export { LONG_TIMEOUT_MS, VIRSH_TIMEOUT_MS } from './timeouts.js';

export interface VirshOptions {
  timeoutMs?: number;
  /** Fed to virsh's stdin (a fixed script of commands; never user text). */
  input?: string;
  onStdout?: (chunk: string) => void;
  /** Keep virsh's table headers (no -q). */
  headers?: boolean;
}

/** One libvirt connection as virsh reaches it: a URI and, for authenticated URIs, an auth file (0600). */
export class Virsh {
  private shell: VirshShell | null = null;

  constructor(
    readonly uri: string,
    private readonly authFile: string | null = null,
  ) {}

  private env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C' };
    delete env['LIBVIRT_DEFAULT_URI'];
    delete env['VIRSH_DEFAULT_CONNECT_URI'];
    if (this.authFile) env['LIBVIRT_AUTH_FILE'] = this.authFile;
    return env;
  }

  /** Runs `virsh -q -c URI ARGS…`; stdout on success, a catalogue error on failure. */
  async call(args: readonly string[], signal: AbortSignal, opts: VirshOptions = {}): Promise<string> {
    const r = await run('virsh', [...(opts.headers ? [] : ['-q']), '-c', this.uri, ...args], {
      timeoutMs: opts.timeoutMs ?? VIRSH_TIMEOUT_MS,
      signal,
      env: this.env(),
      input: opts.input,
      onStdout: opts.onStdout,
      missingCode: 'ENDPOINT_UNREACHABLE',
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.code !== 0) throw virshError(r.stderr, args[0] ?? '', this.uri);
    return r.stdout;
  }

  /** Runs a command that takes an XML file: the XML goes to a file in a fresh 0700 directory, removed afterwards. */
  async withXml(xml: string, args: (file: string) => readonly string[], signal: AbortSignal, opts: VirshOptions = {}): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pv-virsh-'));
    try {
      const file = path.join(dir, 'domain.xml');
      await writeFile(file, xml, { mode: 0o600 });
      return await this.call(args(file), signal, opts);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Fixed bulk commands (no user text) on this host's long-lived interactive virsh (virsh-shell.ts). */
  fixed(commands: string[][], signal: AbortSignal): Promise<string[]> {
    this.shell ??= new VirshShell(this.uri, () => this.env());
    return this.shell.run(commands, signal);
  }

  /** Ends the interactive virsh, if one runs. */
  close(): void {
    this.shell?.close();
    this.shell = null;
  }

  /** Environment for a long-running virsh child (events) started elsewhere. */
  childEnv(): NodeJS.ProcessEnv {
    return this.env();
  }
}
