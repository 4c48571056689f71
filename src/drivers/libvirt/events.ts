/**
 * Lifecycle events: one long-running `virsh event --loop --timestamp --event
 * lifecycle` per host, under `stdbuf -oL` (virsh's stdout is block-buffered
 * into a pipe), its lines parsed as they come ("…: event 'lifecycle' for
 * domain 'web': Started Booted"). The watcher ends its children by aborting
 * them; a child that ends by itself (libvirtd went away) is reported through
 * onError as ENDPOINT_LOST, and the inventory falls back to polling.
 */
import { PolyvisorError, run } from '../../shared/index.js';
import type { ForeignChange, ForeignEvents, ForeignVmState } from '../endpoint.js';
import type { LibvirtContext } from './context.js';

const LINE = /event 'lifecycle' for domain '(.*)': (\w+) ?(.*)$/;

/** A lifecycle line → a change, or null for lines that change nothing (a shutdown that a Stopped follows, a move away). */
export function lifecycleChange(line: string): ForeignChange | null {
  const m = LINE.exec(line.trim());
  if (!m) return null;
  const [, vm, event, detail] = m as unknown as [string, string, string, string];
  const to = (state: ForeignVmState): ForeignChange => ({ vm, state });
  switch (event) {
    case 'Started':
    case 'Resumed':
      return to('running');
    case 'Suspended':
      return to('paused');
    case 'PMSuspended':
      return to('suspended');
    case 'Stopped':
      if (detail.startsWith('Migrated')) return null; // the target host reports it Started
      return to(detail.startsWith('Saved') ? 'suspended' : 'stopped');
    case 'Crashed':
      return to('stopped');
    case 'Undefined':
      return detail.startsWith('Migrated') ? null : { vm, gone: true };
    case 'Defined':
      return { vm };
    default:
      return null;
  }
}

/** How long one event child may live before it is restarted (setTimeout's limit is about 24.8 days). */
const CHILD_LIFETIME_MS = 2 ** 31 - 1;

export function eventsPart(ctx: LibvirtContext): ForeignEvents {
  return {
    watch(onChange, onError) {
      const ac = new AbortController();
      for (const h of ctx.hosts) {
        let pending = '';
        const onStdout = (chunk: string): void => {
          pending += chunk;
          const lines = pending.split('\n');
          pending = lines.pop() ?? '';
          for (const l of lines) {
            const c = lifecycleChange(l);
            if (c) onChange(c);
          }
        };
        // virsh writes through stdio, block-buffered into a pipe: stdbuf makes it a line at a time.
        run('stdbuf', ['-oL', 'virsh', '-q', '-c', h.host.uri, 'event', '--loop', '--timestamp', '--event', 'lifecycle'], {
          timeoutMs: CHILD_LIFETIME_MS,
          signal: ac.signal,
          env: h.virsh.childEnv(),
          onStdout,
          maxBuffer: 64 * 1024,
        }).then(
          (r) => {
            if (!ac.signal.aborted) onError(new PolyvisorError('ENDPOINT_LOST', `libvirt events from ${h.host.name} ended (${r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`})`));
          },
          (err: Error) => {
            if (!ac.signal.aborted) onError(err);
          },
        );
      }
      return () => ac.abort();
    },
  };
}
