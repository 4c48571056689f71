/** Cleanup for tests that run daemons as cluster members: each daemon, its watchdog process, and what ran under its state directory. */
import { readFileSync } from 'node:fs';
import { processesUnder, type TestDaemon } from './daemon.js';

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

/** SIGKILLs the daemons, the watchdog processes their watchdog.log names, then every process under `stateDirs`. */
export async function killClusterHosts(daemons: Array<TestDaemon | undefined>, stateDirs: string[]): Promise<void> {
  for (const d of daemons) {
    if (!d) continue;
    await d.kill9();
    const log = (() => { try { return readFileSync(`${d.stateDir}/watchdog.log`, 'utf8'); } catch { return ''; } })();
    for (const m of log.matchAll(/watchdog\[(\d+)\]/g)) kill(Number(m[1]));
  }
  for (const dir of stateDirs) for (const pid of processesUnder(dir)) kill(pid);
}
