/**
 * Load generation for bench/api.ts: keep-alive HTTP GETs against polyvisord
 * (unix socket or TCP with a token), one long-lived `virsh` session fed
 * commands on stdin, and a fresh process per call; latency samples and
 * requests per second.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { run } from './proc.js';

export type Call = () => Promise<void>;

export interface HttpTarget {
  socketPath?: string;
  host?: string;
  port?: number;
  token?: string;
}

/** A GET that reads the whole body over a keep-alive agent; throws unless 200. */
export function httpGetter(t: HttpTarget, concurrency: number): { get: (path: string) => Call; close: () => void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const headers: Record<string, string> = { accept: 'application/json', ...(t.token ? { authorization: `Bearer ${t.token}` } : {}) };
  const where = t.socketPath ? { socketPath: t.socketPath } : { host: t.host, port: t.port };
  const get = (path: string): Call => () =>
    new Promise<void>((resolve, reject) => {
      const req = http.request({ ...where, path, method: 'GET', agent, headers }, (res) => {
        let n = 0;
        res.on('data', (c: Buffer) => (n += c.length));
        res.on('end', () => (res.statusCode === 200 && n > 0 ? resolve() : reject(new Error(`GET ${path}: HTTP ${res.statusCode}`))));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  return { get, close: () => agent.destroy() };
}

/** One `virsh` process kept open; each command is followed by `echo` of a marker to find its end. */
export class VirshSession {
  private readonly child: ChildProcess;
  private buf = '';
  private waiter: { marker: string; resolve: (out: string) => void; reject: (e: Error) => void } | null = null;
  private seq = 0;
  /** The tail of what virsh wrote to stderr. */
  errors = '';

  constructor(uri: string) {
    this.child = spawn('virsh', ['-c', uri], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.setEncoding('utf8').on('data', (c: string) => {
      this.buf += c;
      this.check();
    });
    // Errors go to stderr and are not tied to a command; callers check the output they need.
    this.child.stderr!.setEncoding('utf8').on('data', (c: string) => (this.errors = (this.errors + c).slice(-4096)));
    this.child.on('exit', () => {
      this.waiter?.reject(new Error('virsh session exited'));
      this.waiter = null;
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private check(): void {
    if (!this.waiter) return;
    const i = this.buf.indexOf(this.waiter.marker);
    if (i < 0) return;
    const out = this.buf.slice(0, i);
    this.buf = this.buf.slice(i + this.waiter.marker.length);
    const w = this.waiter;
    this.waiter = null;
    w.resolve(out);
  }

  /** Runs one virsh command line (arguments must not need quoting) and returns its output. */
  run(command: string): Promise<string> {
    if (this.waiter) throw new Error('one command at a time');
    const marker = `__pv_end_${++this.seq}__\n`;
    return new Promise((resolve, reject) => {
      this.waiter = { marker, resolve, reject };
      this.child.stdin!.write(`${command}\necho ${marker.trim()}\n`);
      this.check();
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null) return resolve();
      this.child.once('exit', () => resolve());
      this.child.stdin!.end('quit\n');
    });
  }
}

/** A fresh process per call (what a shell script does); throws unless it exits 0. */
export function processCall(cmd: string, args: string[]): Call {
  return async () => {
    const r = await run(cmd, args, 120_000);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  };
}

/** `n` calls one after another; their latencies in ms. */
export async function latencies(call: Call, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await call();
    out.push(performance.now() - t0);
  }
  return out;
}

/** Calls per second with `concurrency` callers for about `durationMs`. */
export async function throughput(call: Call, concurrency: number, durationMs: number): Promise<number> {
  const t0 = performance.now();
  const end = t0 + durationMs;
  let done = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end) {
      await call();
      done++;
    }
  }));
  return done / ((performance.now() - t0) / 1000);
}

/** Nearest-rank percentile of samples (ms). */
export function percentile(samples: number[], p: number): number {
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}
