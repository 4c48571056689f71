/**
 * polyvisor's fencing watchdog, a process of its own beside the daemon of a
 * cluster host (src/cluster/watchdog.ts says why and how). Started by the
 * daemon (daemon/watchdog-wiring.ts) detached, in its own session, so a hung
 * or killed daemon does not take it along:
 *
 *   node dist/daemon/watchdog-main.js --dir STATE/fence
 *
 * stdin: `alive <epoch ms>` lines after each lease renewal, `leave` on purpose.
 * stderr: one line per event (the daemon points it at STATE/watchdog.log).
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { FenceTargets, runWatchdog } from '../cluster/index.js';

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({ args: argv, options: { dir: { type: 'string' }, 'tick-ms': { type: 'string' } }, strict: true });
  if (!values.dir?.startsWith('/')) throw new Error('--dir must be an absolute path');
  const log = (msg: string) => void process.stderr.write(`${new Date().toISOString()} watchdog[${process.pid}]: ${msg}\n`);
  log(`guarding the HA VMs listed in ${values.dir}`);
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  const tickMs = values['tick-ms'] ? Number(values['tick-ms']) : undefined;
  await runWatchdog({ lines, targets: new FenceTargets(values.dir), log, ...(tickMs ? { tickMs } : {}) });
  lines.close();
  process.stdin.destroy();
}

main(process.argv.slice(2)).then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`watchdog: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
