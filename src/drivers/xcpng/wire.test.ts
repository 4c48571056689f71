import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../../shared/index.js';
import { xapiFailure, XapiError } from './errors.js';
import { readAnswer } from './rpc.js';
import { snapshotsOf, xapiTime } from './snapshots.js';
import { taskResult } from './tasks.js';
import { xapiOrigin } from './url.js';
import type { VmRecord } from './records.js';

describe('xcpng wire details', () => {
  it('reads JSON-RPC v2 and v1 answers, results and XAPI errors', () => {
    expect(readAnswer({ jsonrpc: '2.0', result: ['OpaqueRef:a'], id: 1 })).toEqual({ result: ['OpaqueRef:a'] });
    const v2 = readAnswer({ jsonrpc: '2.0', error: { code: 1, message: 'VM_BAD_POWER_STATE', data: ['OpaqueRef:v', 'halted', 'running'] }, id: 2 });
    expect(v2).toBeInstanceOf(XapiError);
    expect((v2 as XapiError).params).toEqual(['OpaqueRef:v', 'halted', 'running']);
    const v1 = readAnswer({ result: null, error: ['SESSION_INVALID', 'OpaqueRef:s'], id: 'x' });
    expect((v1 as XapiError).code).toBe('SESSION_INVALID');
    expect(readAnswer({ id: 3 })).toBeNull();
    expect(readAnswer('nonsense')).toBeNull();
  });

  it('maps XAPI errors to the catalogue, keeping XAPI\'s code', () => {
    const e = xapiFailure('xcp', 'start web', new XapiError('VM_BAD_POWER_STATE', ['OpaqueRef:v', 'halted', 'running']));
    expect(e.code).toBe('INVALID_TRANSITION');
    expect(e.message).toBe('XCP-ng endpoint xcp: start web failed: the VM is running; this needs it halted');
    expect(e.details).toEqual({ xapi: ['VM_BAD_POWER_STATE', 'OpaqueRef:v', 'halted', 'running'] });
    expect(xapiFailure('xcp', 'x', new XapiError('HANDLE_INVALID', ['VM', 'OpaqueRef:v'])).code).toBe('FOREIGN_VM_NOT_FOUND');
    expect(xapiFailure('xcp', 'x', new XapiError('HANDLE_INVALID', ['VDI', 'OpaqueRef:d'])).code).toBe('ENDPOINT_TASK_FAILED');
    const slave = xapiFailure('xcp', 'login', new XapiError('HOST_IS_SLAVE', ['10.0.0.1']));
    expect(slave.code).toBe('ENDPOINT_PROTOCOL');
    expect(slave.hint).toContain('https://10.0.0.1');
    expect(xapiFailure('xcp', 'x', new XapiError('SR_BACKEND_FAILURE_44', ['', 'no space', ''])).code).toBe('ENDPOINT_TASK_FAILED');
  });

  it('task results, datetimes and URLs', () => {
    expect(taskResult('<value>OpaqueRef:9</value>')).toBe('OpaqueRef:9');
    expect(taskResult('')).toBe('');
    expect(xapiTime('20241201T10:00:00Z')).toBe('2024-12-01T10:00:00.000Z');
    expect(xapiTime('19700101T00:00:00Z')).toBeNull();
    expect(xapiOrigin('https://xcp.example.com/jsonrpc').href).toBe('https://xcp.example.com/');
    expect(xapiOrigin('https://10.0.0.5:8443').port).toBe('8443');
    for (const bad of ['http://xcp', 'https://root:pw@xcp', 'https://xcp/other', 'not a url', 'https://xcp/?a=1']) {
      let err: unknown;
      try {
        xapiOrigin(bad);
      } catch (e) {
        err = e;
      }
      expect(isPolyvisorError(err, 'INVALID_ARGUMENT'), bad).toBe(true);
    }
  });

  it('snapshots form a tree through parent; the VM\'s parent is current', () => {
    const base = { is_a_snapshot: true, snapshot_of: 'OpaqueRef:vm', snapshots: [], name_description: '' } as unknown as VmRecord;
    const all = {
      'OpaqueRef:a': { ...base, name_label: 'a', parent: 'OpaqueRef:NULL', snapshot_time: '20240101T00:00:00Z', power_state: 'Halted' },
      'OpaqueRef:b': { ...base, name_label: 'b', parent: 'OpaqueRef:a', snapshot_time: '20240102T00:00:00Z', power_state: 'Suspended' },
    } as unknown as Record<string, VmRecord>;
    const vm = { snapshots: ['OpaqueRef:a', 'OpaqueRef:b', 'OpaqueRef:gone'], parent: 'OpaqueRef:a' } as unknown as VmRecord;
    expect(snapshotsOf(vm, all)).toEqual([
      { name: 'a', parent: null, createdAt: '2024-01-01T00:00:00.000Z', description: '', memory: false, current: true },
      { name: 'b', parent: 'a', createdAt: '2024-01-02T00:00:00.000Z', description: '', memory: true, current: false },
    ]);
  });
});
