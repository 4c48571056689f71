import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { VmView } from '../../api/types.js';
import { resizeLimits, RESIZE_PERMISSION_WHY } from './resize-limits.js';
import { ResizeControl } from './VmResize.js';

const MIB = 1024 ** 2;
const vm = (state: string, over: Record<string, unknown> = {}): VmView => ({
  name: 'db', state,
  spec: { cpu: { count: 2, max: 4 }, memory: 384 * MIB, memoryLayout: { max: { size: 1024 * MIB, slots: 4 } }, ...over },
} as unknown as VmView);

describe('the VM page resize control', () => {
  it('running: vCPUs up to cpu.max, memory up in 128 MiB blocks to memory.max, balloon up to all of its memory', () => {
    const l = resizeLimits(vm('running'), true);
    expect(l.live).toBe(true);
    expect(l.cpus).toEqual({ now: 2, min: 2, max: 4, step: 1, why: '' });
    expect(l.memoryMiB).toEqual({ now: 384, min: 384, max: 1024, step: 128, why: '' });
    expect(l.balloonMiB).toEqual({ now: 384, min: 16, max: 384, step: 1, why: '' });
    // 262084Ki grown by a DIMM: 383.94 MiB shows as 384, its blocks counted from there
    expect(resizeLimits(vm('running', { memory: 393156 * 1024, memoryLayout: { max: { size: 512 * MIB } } }), true).memoryMiB).toMatchObject({ now: 384, max: 512 });
  });

  it('disabled with the reason: no room, stopped balloon, no balloon, a VM in between, and a role without vm:operate', () => {
    expect(resizeLimits(vm('running', { cpu: { count: 2 } }), true).cpus.why).toBe('no room: cpu.max is 2 (raise it while the VM is stopped)');
    expect(resizeLimits(vm('running', { memoryLayout: undefined }), true).memoryMiB.why).toMatch(/^no room: memory.max is 384 MiB/);
    const stopped = resizeLimits(vm('stopped'), true);
    expect([stopped.live, stopped.cpus.why, stopped.cpus.min, stopped.memoryMiB.why, stopped.memoryMiB.min]).toEqual([false, '', 1, '', 16]);
    expect(stopped.balloonMiB.why).toBe('only on a running VM (a VM starts with all of its memory)');
    expect(resizeLimits(vm('running', { memoryLayout: { balloon: { enabled: false } } }), true).balloonMiB.why).toBe('the VM has no balloon (memory.balloon.enabled is false)');
    expect(resizeLimits(vm('migrating'), true).cpus.why).toBe('VM db is migrating: wait until it is running or stopped');
    const viewer = resizeLimits(vm('running'), false);
    expect([viewer.cpus.why, viewer.memoryMiB.why, viewer.balloonMiB.why]).toEqual([RESIZE_PERMISSION_WHY, RESIZE_PERMISSION_WHY, RESIZE_PERMISSION_WHY]);
  });

  it('renders: an operator gets enabled inputs (Set waits for a changed value, the balloon may be set at once); a viewer sees them disabled with the permission', () => {
    const op = renderToStaticMarkup(<ResizeControl vm={vm('running')} canOperate />);
    expect(op).toMatch(/<input type="number" aria-label="vCPUs" min="2" max="4" step="1" value="2"\/>/);
    expect(op).toMatch(/<input type="number" aria-label="Memory \(MiB\)" min="384" max="1024" step="128" value="384"\/>/);
    expect(op).toContain('Hot-plugged into the running guest');
    expect(op).not.toContain('title='); // nothing disabled for a reason
    expect(op).toMatch(/data-resize="cpus">.*<button type="button" disabled="">Set<\/button>/); // unchanged value: nothing to set yet
    expect(op).toMatch(/data-resize="balloonMiB">.*<button type="button">Set<\/button>/);
    const viewer = renderToStaticMarkup(<ResizeControl vm={vm('running')} canOperate={false} />);
    expect(viewer.match(/<button type="button" disabled="" title="needs the vm:operate permission \(role operator or admin\)">Set<\/button>/g)).toHaveLength(3);
  });
});
