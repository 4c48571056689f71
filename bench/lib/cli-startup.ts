/** How long a bare Node.js process and the Polyvisor CLI take just to start and exit. */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT } from './polyvisor.js';
import { runOk } from './proc.js';
import { summarize } from './stats.js';

export interface StartupCost {
  /** `node -e 0`, median ms. */
  node: number;
  /** `node bin/polyvisor.js --version`, median ms. */
  cli: number;
}

async function medianOf(times: number, cmd: string, args: string[]): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await runOk(cmd, args);
    ms.push(performance.now() - t0);
  }
  return summarize(ms).median;
}

export async function measureStartup(times = 7): Promise<StartupCost> {
  return {
    node: await medianOf(times, process.execPath, ['-e', '0']),
    cli: await medianOf(times, process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--version']),
  };
}
