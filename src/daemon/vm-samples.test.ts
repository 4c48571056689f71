import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { VmService } from '../lifecycle/index.js';
import { SharedVmSamples } from './vm-samples.js';

/** A VmService with VMs but no processes: sampleVms lists the records and asks nothing else. */
function fakeService() {
  const states = new EventEmitter();
  let lists = 0;
  let state = 'stopped';
  let release: (() => void) | null = null;
  let hold = false;
  const service = {
    states,
    liveInstance: () => undefined,
    async list() {
      lists++;
      const s = state;
      if (hold) await new Promise<void>((r) => (release = r));
      return [{ name: 'a', id: 'id-a', state: s, spec: { cpu: { count: 1 }, memory: 1, labels: {} } }];
    },
  } as unknown as VmService;
  return {
    service, states,
    lists: () => lists,
    setState: (s: string) => (state = s),
    holdLists: (on: boolean) => (hold = on),
    release: () => release?.(),
  };
}

describe('SharedVmSamples', () => {
  it('reuses a sampling while it is young enough; 0 always takes a fresh one', async () => {
    const f = fakeService();
    const s = new SharedVmSamples(f.service, { perVmTimeoutMs: 100 });
    await s.get(60_000);
    await s.get(60_000);
    expect(f.lists()).toBe(1);
    await s.get(0);
    expect(f.lists()).toBe(2);
    s.close();
  });

  it('a state change or a removal drops the cached sampling at once', async () => {
    const f = fakeService();
    const s = new SharedVmSamples(f.service, { perVmTimeoutMs: 100 });
    expect((await s.get(60_000))[0]!.state).toBe('stopped');
    f.setState('running');
    f.states.emit('state', { vm: 'a', from: 'stopped', to: 'running' });
    expect((await s.get(60_000))[0]!.state).toBe('running');
    f.states.emit('removed', { vm: 'a', id: 'id-a' });
    await s.get(60_000);
    expect(f.lists()).toBe(3);
    s.close();
  });

  it('callers share one sampling in flight, unless a change happened after it began', async () => {
    const f = fakeService();
    const s = new SharedVmSamples(f.service, { perVmTimeoutMs: 100 });
    f.holdLists(true);
    const first = s.get(0);
    const second = s.get(0);
    await new Promise((r) => setTimeout(r, 10));
    expect(f.lists()).toBe(1);
    f.setState('running');
    f.states.emit('state', { vm: 'a', from: 'stopped', to: 'running' });
    f.holdLists(false);
    const third = s.get(60_000); // begun after the change: its own sampling
    f.release();
    expect((await first)[0]!.state).toBe('stopped');
    expect(await second).toBe(await first);
    expect((await third)[0]!.state).toBe('running');
    expect(f.lists()).toBe(2);
    // the sampling begun before the change was not kept: the cached one is the newer
    expect((await s.get(60_000))[0]!.state).toBe('running');
    expect(f.lists()).toBe(2);
    s.close();
  });
});
