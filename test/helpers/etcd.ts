/**
 * A private etcd cluster for a test file (scripts/etcd.sh): 1 or 3 members on
 * 127.0.0.1, free ports, data under a temp folder; stopped by PID in afterAll.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..', '..');
const SCRIPT = path.join(ROOT, 'scripts', 'etcd.sh');

export interface TestEtcd {
  dir: string;
  size: number;
  endpoints: string[];
  /** PID of member i now (null when it does not run). */
  pid(i: number): number | null;
  /** SIGKILLs member i. */
  kill(i: number): void;
  /** Starts member i again on its data (it rejoins the cluster). */
  restart(i: number): void;
  /** Index of the member that is the Raft leader. */
  leader(): number;
  stop(): void;
}

function script(args: string[]): string {
  const r = spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`scripts/etcd.sh ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return r.stdout.trim();
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/** A base port with 2*size free ports after it. */
async function freeBase(size: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + 2 * Math.floor(Math.random() * 15_000);
    let ok = true;
    for (let p = base; p < base + 2 * size && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error('no free ports for etcd');
}

export async function startEtcd(size: 1 | 3, tag = 'etcd'): Promise<TestEtcd> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `pv-${tag}-`));
  const base = await freeBase(size);
  const endpoints = script(['start', dir, String(size), String(base)]).split(',');
  const pid = (i: number): number | null => {
    try {
      const p = Number(readFileSync(path.join(dir, `m${i}.pid`), 'utf8'));
      return Number.isInteger(p) && p > 0 ? p : null;
    } catch {
      return null;
    }
  };
  return {
    dir,
    size,
    endpoints,
    pid,
    kill: (i) => void script(['kill', dir, String(i)]),
    restart: (i) => void script(['restart', dir, String(i)]),
    leader: () => Number(script(['leader', dir])),
    stop(): void {
      script(['stop', dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
