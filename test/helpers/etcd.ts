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

/** The script's own start limit; the spawn's is longer, so its reason arrives rather than a SIGTERM. */
const START_LIMIT_S = 60;

function script(args: string[]): string {
  const r = spawnSync('bash', [SCRIPT, ...args], {
    encoding: 'utf8',
    timeout: (START_LIMIT_S + 30) * 1000,
    env: { ...process.env, POLYVISOR_ETCD_START_TIMEOUT: String(START_LIMIT_S) },
  });
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

/**
 * A base port with 2*size free ports after it, below the kernel's ephemeral
 * range (32768 and up), where any process's outgoing connection or port-0
 * listener may take a port between this check and etcd's bind.
 */
async function freeBase(size: number): Promise<number> {
  for (let tries = 0; tries < 50; tries++) {
    const base = 20_000 + 2 * Math.floor(Math.random() * 6_000);
    let ok = true;
    for (let p = base; p < base + 2 * size && ok; p++) ok = await portFree(p);
    if (ok) return base;
  }
  throw new Error('no free ports for etcd');
}

/**
 * Starts the cluster on free ports; a member that lost its port to another
 * process between the check and its bind (the script names it) gets a fresh
 * folder and base, up to three tries.
 */
async function startOnFreePorts(size: number, tag: string): Promise<{ dir: string; endpoints: string[] }> {
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(path.join(os.tmpdir(), `pv-${tag}-`));
    const base = await freeBase(size);
    try {
      return { dir, endpoints: script(['start', dir, String(size), String(base)]).split(',') };
    } catch (err) {
      const lostPort = /port in use/.test(String(err));
      try {
        script(['stop', dir]);
      } catch {
        /* the start's error is the one to report */
      }
      if (!lostPort || attempt >= 3) throw err;
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

export async function startEtcd(size: 1 | 3, tag = 'etcd'): Promise<TestEtcd> {
  const { dir, endpoints } = await startOnFreePorts(size, tag);
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
