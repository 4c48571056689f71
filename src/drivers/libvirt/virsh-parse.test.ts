import { describe, expect, it } from 'vitest';
import { lifecycleChange } from './events.js';
import { num, parseDomstats, parseTable, parseUuidNames, sumIndexed } from './virsh-parse.js';
import { virshErrorCode, virshMessage } from './virsh-errors.js';

describe('virsh output parsers', () => {
  it('list --all --uuid --name', () => {
    expect(parseUuidNames('7b036f5a-9a11-4030-b07f-03d2cc322f75 t1\nE50F32A3-C25B-4CAE-A000-04C3732897DF name with space\n\n')).toEqual([
      { uuid: '7b036f5a-9a11-4030-b07f-03d2cc322f75', name: 't1' },
      { uuid: 'e50f32a3-c25b-4cae-a000-04c3732897df', name: 'name with space' },
    ]);
    expect(() => parseUuidNames('not a row')).toThrow(/does not understand/);
  });

  it('domstats --raw: fields per domain, sums over devices', () => {
    const rows = parseDomstats("Domain: 't2'\n  state.state=5\n  state.reason=5\n  block.count=2\n  block.0.rd.bytes=10\n  block.1.rd.bytes=5\n\nDomain: 'it''s'\n  vcpu.current=2\n");
    expect(num(rows.get('t2'), 'state.state')).toBe(5);
    expect(sumIndexed(rows.get('t2'), 'block', 'rd.bytes')).toBe(15);
    expect(sumIndexed(rows.get('t2'), 'net', 'rx.bytes')).toBeNull();
    expect(num(rows.get("it''s"), 'vcpu.current')).toBe(2);
    expect(() => parseDomstats('state.state=1')).toThrow(/does not understand/);
  });

  it('tables are cut where the header words start, so cells may hold spaces', () => {
    const out = [' Name   Creation Time               State     Parent', '------------------------------------------------------', ' s 2    2026-12-04 20:12:02 +0000   shutoff   s1', ' s1     2026-12-04 20:12:02 +0000   running   ', ''].join('\n');
    expect(parseTable(out)).toEqual([
      { name: 's 2', 'creation time': '2026-12-04 20:12:02 +0000', state: 'shutoff', parent: 's1' },
      { name: 's1', 'creation time': '2026-12-04 20:12:02 +0000', state: 'running', parent: '' },
    ]);
  });

  it('lifecycle events map to states; a move away and a shutdown notice change nothing', () => {
    const line = (e: string): string => `2026-12-04 20:12:38.744+0000: event 'lifecycle' for domain 'web': ${e}`;
    expect(lifecycleChange(line('Started Booted'))).toEqual({ vm: 'web', state: 'running' });
    expect(lifecycleChange(line('Suspended Paused'))).toEqual({ vm: 'web', state: 'paused' });
    expect(lifecycleChange(line('Stopped Saved'))).toEqual({ vm: 'web', state: 'suspended' });
    expect(lifecycleChange(line('Stopped Destroyed'))).toEqual({ vm: 'web', state: 'stopped' });
    expect(lifecycleChange(line('Stopped Migrated'))).toBeNull();
    expect(lifecycleChange(line('Shutdown Finished after host request'))).toBeNull();
    expect(lifecycleChange(line('Undefined Removed'))).toEqual({ vm: 'web', gone: true });
    expect(lifecycleChange("event 'reboot' for domain 'web'")).toBeNull();
  });

  it('virsh errors map to the catalogue', () => {
    const code = (stderr: string): string => virshErrorCode(virshMessage(stderr));
    expect(code("error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/x/libvirt-sock': No such file or directory")).toBe('ENDPOINT_UNREACHABLE');
    expect(code("error: failed to get domain 'nope'")).toBe('FOREIGN_VM_NOT_FOUND');
    expect(code('error: Failed to start domain \'t1\'\nerror: Requested operation is not valid: domain is already running')).toBe('INVALID_TRANSITION');
    expect(code('error: End of file while reading data: Input/output error')).toBe('ENDPOINT_LOST');
    expect(code("error: Domain snapshot not found: no domain snapshot with matching name 'x'")).toBe('SNAPSHOT_NOT_FOUND');
    expect(code("error: operation failed: domain 't3' already exists with uuid e50f32a3-c25b-4cae-a000-04c3732897df")).toBe('VM_EXISTS');
    expect(code('error: authentication failed: Failed to start SASL negotiation')).toBe('ENDPOINT_AUTH_FAILED');
    expect(code('error: internal error: qemu unexpectedly closed the monitor')).toBe('ENDPOINT_TASK_FAILED');
    expect(virshMessage('error: a\nerror: b\n')).toBe('a; b');
  });
});
