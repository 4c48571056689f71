/**
 * Network namespaces a test creates and always removes: unique names, veth
 * pairs between them, commands and detached processes inside them. Nothing
 * touches the host's own namespace; cleanup() stops every process by PID
 * (the ones started here, then whatever `ip netns pids` still lists) and
 * deletes every namespace by name, even after a failure.
 */
import path from 'node:path';
import { spawn } from 'node:child_process';
import { run, type RunResult } from '../../src/shared/index.js';

let counter = 0;

export class NetnsLab {
  readonly namespaces: string[] = [];
  private readonly pids: number[] = [];
  private readonly tag = `pvt${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;

  /** Creates a namespace with lo up; the name is unique to this process. */
  async add(role: string): Promise<string> {
    const name = `${this.tag}-${role}${++counter}`;
    await this.must('ip', ['netns', 'add', name]);
    this.namespaces.push(name);
    await this.exec(name, 'ip', ['link', 'set', 'lo', 'up']);
    return name;
  }

  private async must(cmd: string, args: string[]): Promise<RunResult> {
    const r = await run(cmd, args, { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim()}`);
    return r;
  }

  /** Runs a command inside the namespace; rejects on a non-zero exit unless allowFail. */
  async exec(ns: string, cmd: string, args: string[], allowFail = false): Promise<RunResult> {
    const r = await run('ip', ['netns', 'exec', ns, cmd, ...args], { timeoutMs: 60_000 });
    if (r.code !== 0 && !allowFail) throw new Error(`[${ns}] ${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
    return r;
  }

  /** A veth pair: `a` in nsA with addrA (CIDR), `b` in nsB with addrB; both up. */
  async veth(nsA: string, a: string, addrA: string | null, nsB: string, b: string, addrB: string | null): Promise<void> {
    await this.exec(nsA, 'ip', ['link', 'add', a, 'type', 'veth', 'peer', 'name', b, 'netns', nsB]);
    for (const [ns, dev, addr] of [[nsA, a, addrA], [nsB, b, addrB]] as const) {
      if (addr !== null) await this.exec(ns, 'ip', ['addr', 'add', addr, 'dev', dev]);
      await this.exec(ns, 'ip', ['link', 'set', dev, 'up']);
    }
  }

  /** Starts a long-running process inside the namespace (ip netns exec execs it: the PID is the process's own). */
  start(ns: string, cmd: string, args: string[], onOutput?: (s: string) => void): number {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: false });
    child.stdout.setEncoding('utf8').on('data', (s: string) => onOutput?.(s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => onOutput?.(s));
    if (child.pid === undefined) throw new Error(`could not start ${cmd} in ${ns}`);
    this.pids.push(child.pid);
    return child.pid;
  }

  /**
   * A "fabric": namespace `role` with bridge br0 at `gateway`/24 and a one-member etcd listening there on 2379 (its data
   * and log in `etcdDir`); hosts join it with `veth(ns, …, core, …)`. Returns the namespace and etcd's client URL.
   */
  async fabricWithEtcd(role: string, gateway: string, etcdDir: string, onOutput?: (s: string) => void): Promise<{ core: string; etcdUrl: string }> {
    const core = await this.add(role);
    await this.exec(core, 'ip', ['link', 'add', 'br0', 'type', 'bridge']);
    await this.exec(core, 'ip', ['addr', 'add', `${gateway}/24`, 'dev', 'br0']);
    await this.exec(core, 'ip', ['link', 'set', 'br0', 'up']);
    const etcdUrl = `http://${gateway}:2379`;
    this.start(core, 'etcd', ['--name', 'e0', '--data-dir', path.join(etcdDir, 'data'),
      '--listen-client-urls', etcdUrl, '--advertise-client-urls', etcdUrl,
      '--listen-peer-urls', 'http://127.0.0.1:2380', '--initial-advertise-peer-urls', 'http://127.0.0.1:2380',
      '--initial-cluster', 'e0=http://127.0.0.1:2380', '--logger', 'zap', '--log-outputs', path.join(etcdDir, 'etcd.log')], onOutput);
    return { core, etcdUrl };
  }

  /** PIDs of every process still inside the namespace. */
  async pidsIn(ns: string): Promise<number[]> {
    const r = await run('ip', ['netns', 'pids', ns], { timeoutMs: 10_000 });
    return r.stdout.split('\n').map(Number).filter((n) => Number.isInteger(n) && n > 0);
  }

  async stop(pid: number): Promise<void> {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    for (let i = 0; i < 50; i++) {
      try {
        process.kill(pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async cleanup(): Promise<void> {
    for (const pid of this.pids.splice(0)) await this.stop(pid);
    for (const ns of this.namespaces.splice(0).reverse()) {
      for (const pid of await this.pidsIn(ns)) await this.stop(pid);
      await run('ip', ['netns', 'del', ns], { timeoutMs: 30_000 });
    }
  }
}
