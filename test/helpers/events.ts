/** Follows a daemon's event stream for one VM and keeps what `pick` makes of each event. */
import { PlatformClient } from '../../src/client/index.js';
import type { EventView } from '../../src/spec/index.js';

export interface Collected {
  seen: string[];
  stop(): void;
}

export async function collectEvents(socketPath: string, vm: string, pick: (e: EventView) => string | undefined): Promise<Collected> {
  const seen: string[] = [];
  const ctl = new AbortController();
  await new Promise<void>((onOpen, fail) => {
    new PlatformClient({ endpoint: { socketPath } }).followEvents((e) => {
      const s = pick(e);
      if (s !== undefined) seen.push(s);
    }, { vm, signal: ctl.signal, onOpen }).catch(fail);
  });
  return { seen, stop: () => ctl.abort() };
}
