/** Starting and stopping one network's dnsmasq: detached, a pid file under the state directory, stopped by PID. */
import { readFile } from 'node:fs/promises';
import { PolyvisorError, pidAlive, pidArgv, signalPid, sleep } from '../shared/index.js';
import { dnsmasqArgv, type DnsmasqPaths } from './dnsmasq-config.js';
import type { CommandRunner } from './runner.js';

/** The PID of this network's dnsmasq when it runs with this config file; null otherwise (a stale pid file is ignored). */
export async function dnsmasqPid(paths: DnsmasqPaths): Promise<number | null> {
  let pid: number;
  try {
    pid = Number((await readFile(paths.pid, 'utf8')).trim());
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !pidAlive(pid)) return null;
  const argv = await pidArgv(pid);
  return argv?.[0]?.endsWith('dnsmasq') && argv.includes(`--conf-file=${paths.conf}`) ? pid : null;
}

/** dnsmasq daemonizes once its sockets are bound; its exit status says whether it could. */
export async function startDnsmasq(runner: CommandRunner, paths: DnsmasqPaths): Promise<number> {
  await runner.run('dnsmasq', dnsmasqArgv(paths));
  for (let i = 0; i < 50; i++) {
    const pid = await dnsmasqPid(paths);
    if (pid !== null) return pid;
    await sleep(100);
  }
  throw new PolyvisorError('NETWORK_HOST_FAILED', `dnsmasq started but wrote no pid file at ${paths.pid}`);
}

/** SIGTERM, then up to 5 s for it to go, then SIGKILL. */
export async function stopDnsmasq(paths: DnsmasqPaths): Promise<void> {
  const pid = await dnsmasqPid(paths);
  if (pid === null) return;
  signalPid(pid, 'SIGTERM');
  for (let i = 0; i < 50 && pidAlive(pid); i++) await sleep(100);
  if (pidAlive(pid)) signalPid(pid, 'SIGKILL');
}
