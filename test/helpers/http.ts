/** Raw HTTP against a daemon's TCP listener, and the CLI with a chosen environment. */
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { ROOT } from './daemon.js';

export interface Answer {
  status: number;
  json: unknown;
  headers: http.IncomingHttpHeaders;
}

/** One request; event streams are cut as soon as their status is known. */
export function httpCall(base: string, method: string, url: string, opts: { token?: string; body?: unknown } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const headers: Record<string, string> = {};
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    if (payload !== undefined) headers['content-type'] = 'application/json';
    const req = http.request(new URL(url, base), { method, headers }, (res) => {
      if (String(res.headers['content-type']).startsWith('text/event-stream')) {
        res.destroy();
        return resolve({ status: res.statusCode!, json: null, headers: res.headers });
      }
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        let json: unknown = text;
        if (String(res.headers['content-type']).includes('json') && text) json = JSON.parse(text);
        resolve({ status: res.statusCode!, json, headers: res.headers });
      });
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs bin/polyvisor.js with `args`; `until` ends a long-running command (events) once its stdout matches. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, until?: (stdout: string) => boolean, onStart?: () => void): Promise<CliResult> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (until?.(stdout)) p.kill('SIGINT');
    });
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('spawn', () => onStart?.());
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** GET a URL, retrying while the far end is not up yet; '' when it never answers. */
export async function getWithRetry(url: string, tries = 50): Promise<string> {
  const once = (): Promise<string> => new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(b));
    }).on('error', reject);
  });
  for (let i = 0; i < tries; i++) {
    const body = await once().catch(() => '');
    if (body) return body;
    await new Promise((r) => setTimeout(r, 200));
  }
  return '';
}
