import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import type { HostView } from '../../../../src/spec/host-views.js';
import { capacityBars, hostActions } from './capacity.js';
import { HostCard, moveWhy } from './HostCard.js';

const GiB = 1024 ** 3;
const host = (over: Partial<HostView> = {}): HostView => ({
  name: 'h1', state: 'ready', capacity: { cpus: 8, memoryBytes: 16 * GiB, diskBytes: 100 * GiB }, allocated: { cpus: 2, memoryBytes: 4 * GiB, diskBytes: 1 * GiB },
  vms: 2, pool: '', version: 't', since: '', leaseAgeSeconds: 3, self: true, ...over,
});

describe('the cluster view of a host', () => {
  it('capacity bars: CPU and memory allocated of capacity, overcommit shown above 100 %', () => {
    expect(capacityBars(host())).toEqual([
      { label: 'CPU', used: 2, total: 8, percent: 25, text: '2 of 8 CPUs' },
      { label: 'Memory', used: 4 * GiB, total: 16 * GiB, percent: 25, text: '4 GiB of 16 GiB' },
    ]);
    expect(capacityBars(host({ allocated: { cpus: 12, memoryBytes: 0, diskBytes: 0 } }))[0]!.percent).toBe(150);
    expect(capacityBars(host({ capacity: { cpus: 0, memoryBytes: 0, diskBytes: 0 } }))[1]!.percent).toBe(0);
  });

  it('actions: admins by state; others see the permission; a single host sees why not', () => {
    const on = (h: HostView, canAdmin = true, clustered = true) => hostActions(h, { canAdmin, clustered }).map((a) => [a.action, a.enabled, a.why]);
    expect(on(host())).toEqual([['cordon', true, ''], ['uncordon', false, 'h1 is ready, not cordoned'], ['drain', true, '']]);
    expect(on(host({ state: 'cordoned' }))).toEqual([['cordon', false, 'h1 is cordoned'], ['uncordon', true, ''], ['drain', true, '']]);
    expect(on(host({ state: 'down' }))[2]).toEqual(['drain', false, 'h1 is down: HA restarts its HA VMs']);
    expect(on(host(), false).every(([, enabled, why]) => enabled === false && why === 'needs the host:admin permission (role admin)')).toBe(true);
    expect(on(host(), true, false)[0]![2]).toMatch(/runs on one host/);
  });

  it('the card shows state, bars, VMs and disabled buttons with their reason', () => {
    const html = renderToStaticMarkup(<HostCard host={host({ state: 'cordoned' })} vms={[{ name: 'web', state: 'running' }]} canAdmin={false} clustered onAction={() => undefined} />);
    expect(html).toContain('data-host="h1"');
    expect(html).toContain('cordoned');
    expect(html).toContain('2 of 8 CPUs');
    expect(html).toContain('href="/vms/web"');
    expect(html).toMatch(/<button[^>]*disabled=""[^>]*title="needs the host:admin permission \(role admin\)"[^>]*>Drain<\/button>/);
  });

  it('each VM has a move to another ready host for vm:migrate; others see why not', () => {
    const move = { targets: ['h2', 'h3'], canMigrate: true, onMove: () => undefined };
    const html = renderToStaticMarkup(<HostCard host={host()} vms={[{ name: 'web', state: 'running' }]} canAdmin clustered onAction={() => undefined} move={move} />);
    expect(html).toMatch(/<select aria-label="host to move web to"[^>]*><option value="h2"[^>]*>h2<\/option><option value="h3"[^>]*>h3<\/option><\/select>/);
    expect(html).toMatch(/<button type="button">Move<\/button>/);
    expect(moveWhy({ ...move, canMigrate: false })).toBe('needs the vm:migrate permission (role operator or admin)');
    expect(moveWhy({ ...move, targets: [] })).toBe('no other ready host');
    expect(renderToStaticMarkup(<HostCard host={host()} vms={[{ name: 'web', state: 'running' }]} canAdmin clustered={false} onAction={() => undefined} move={move} />)).not.toContain('<select');
  });

  it('another host\'s VMs are a count (each daemon lists its own)', () => {
    const html = renderToStaticMarkup(<HostCard host={host({ name: 'h2', self: false, vms: 3 })} vms={null} canAdmin clustered onAction={() => undefined} />);
    expect(html).toContain('3 VMs (each host&#x27;s daemon lists its own');
  });
});
