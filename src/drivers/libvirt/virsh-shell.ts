/**
 * One long-lived interactive virsh per host for the session's FIXED bulk
 * commands (version, list, domstats): it connects once, then each command
 * costs only its RPCs (bench/list-libvirt.ts: about 12 ms per command against
 * 200+ ms for a virsh spawned per call on a busy host). Only words of
 * [a-z0-9-] are accepted, so no user text (a domain name) ever reaches
 * virsh's own command parser; commands that name a domain spawn virsh with
 * an argv array instead (virsh.ts).
 *
 * Framing: after each command, `echo` prints a random marker (virsh flushes
 * its stdout when it prompts for the next line, so the marker arrives without
 * `stdbuf`); the prompts and the lines in which virsh echoes what it read are
 * dropped. An `error:` on stderr
 * fails the batch (mapped like any virsh error). Each batch has a timeout and
 * the caller's AbortSignal; on either, or when virsh dies, the process is
 * killed and the next batch starts a new one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { PolyvisorError } from '../../shared/index.js';
import { virshError } from './virsh-errors.js';
import { VIRSH_TIMEOUT_MS } from './timeouts.js';

const WORD = /^(--)?[a-z0-9][a-z0-9-]*$/;

export class VirshShell {
  private child: ChildProcess | null = null;
  private out = '';
  private err = '';
  private waiter: (() => void) | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly uri: string,
    private readonly env: () => NodeJS.ProcessEnv,
  ) {}

  /** Runs the commands in order; their outputs, one string each. */
  run(commands: string[][], signal: AbortSignal, timeoutMs = VIRSH_TIMEOUT_MS): Promise<string[]> {
    for (const c of commands) {
      if (c.length === 0 || !c.every((w) => WORD.test(w))) throw new Error(`VirshShell takes fixed words only, not ${JSON.stringify(c)}`);
    }
    const next = this.chain.then(() => this.batch(commands, signal, timeoutMs));
    this.chain = next.catch(() => undefined);
    return next;
  }

  close(): void {
    const c = this.child;
    this.child = null;
    if (c && c.exitCode === null) {
      c.stdin?.end('quit\n');
      const t = setTimeout(() => c.kill('SIGKILL'), 2_000);
      t.unref();
      c.once('exit', () => clearTimeout(t));
    }
  }

  private start(): ChildProcess {
    const c = spawn('virsh', ['-q', '-c', this.uri], { env: this.env(), stdio: ['pipe', 'pipe', 'pipe'], shell: false });
    this.out = '';
    this.err = '';
    c.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.out += d;
      this.waiter?.();
    });
    c.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.err += d;
      this.waiter?.();
    });
    c.stdin!.on('error', () => undefined);
    c.on('error', () => undefined);
    c.on('exit', () => {
      if (this.child === c) this.child = null;
      this.waiter?.();
    });
    this.child = c;
    return c;
  }

  private kill(c: ChildProcess): void {
    if (this.child === c) this.child = null;
    c.kill('SIGKILL');
  }

  private batch(commands: string[][], signal: AbortSignal, timeoutMs: number): Promise<string[]> {
    const c = this.child ?? this.start();
    const marks = commands.map(() => `__pv_${randomBytes(6).toString('hex')}__`);
    const lines = commands.map((cmd, i) => `${cmd.join(' ')}\necho ${marks[i]}\n`).join('');
    const sent = new Set(lines.split('\n').filter((l) => l !== ''));
    let scanned = 0;
    let seen = false;
    this.out = '';
    this.err = '';
    return new Promise<string[]>((resolve, reject) => {
      const done = (fn: () => void): void => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        this.waiter = null;
        fn();
      };
      const timer = setTimeout(() => {
        this.kill(c);
        done(() => reject(new PolyvisorError('TIMEOUT', `virsh ${commands.map((x) => x[0]).join(', ')} did not answer within ${timeoutMs} ms`)));
      }, timeoutMs);
      const onAbort = (): void => {
        this.kill(c);
        done(() => reject(new PolyvisorError('ABORTED', `virsh ${commands.map((x) => x[0]).join(', ')} was cancelled`)));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      if (signal.aborted) return onAbort();
      this.waiter = () => {
        if (/^error:/m.test(this.err)) {
          // Let the rest of the message arrive, then fail the batch; the shell is dropped (its state is unknown).
          setTimeout(() => {
            const msg = this.err;
            this.kill(c);
            done(() => reject(virshError(msg, commands[0]![0]!, this.uri)));
          }, 20);
          this.waiter = null;
          return;
        }
        if (c.exitCode !== null || c.signalCode !== null) {
          const msg = this.err;
          done(() => reject(virshError(msg || 'error: virsh ended', commands[0]![0]!, this.uri)));
          return;
        }
        // virsh echoes each command after its prompt ("virsh # list …", the prompt possibly at the end of
        // the previous batch's output): prompts become line breaks and the lines that are our own commands
        // go, so a marker is only ever found in echo's own output.
        // Cheap test first (a big domstats arrives in hundreds of chunks), the full clean-up
        // only once the last marker is somewhere in what arrived.
        const last = marks[marks.length - 1]!;
        const from = Math.max(0, scanned - last.length);
        scanned = this.out.length;
        if (!seen && this.out.indexOf(last, from) < 0) return;
        seen = true;
        const clean = this.out.replace(/virsh # /g, '\n').split('\n').filter((l) => !sent.has(l)).join('\n');
        if (!clean.includes(last)) return;
        const parts: string[] = [];
        let rest = clean;
        for (const m of marks) {
          const i = rest.indexOf(m);
          parts.push(rest.slice(0, i));
          rest = rest.slice(i + m.length);
        }
        done(() => resolve(parts));
      };
      c.stdin!.write(lines);
    });
  }
}
