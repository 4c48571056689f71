/**
 * Bad input gets a clear error with a stable code and a hint, and nothing is
 * written: no store row, no VM directory, no process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolyvisorError } from '../src/shared/index.js';
import { killQemusUnder, processesUnder, startDaemon, vmDirsIn, type TestDaemon } from './helpers/daemon.js';
import { guestSpec } from './helpers/vm.js';

let d: TestDaemon;
beforeAll(async () => {
  d = await startDaemon();
});
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

async function expectCode(p: Promise<unknown>, code: string): Promise<PolyvisorError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(PolyvisorError);
    const e = err as PolyvisorError;
    expect(e.code, e.message).toBe(code);
    expect(e.hint.length).toBeGreaterThan(10);
    return e;
  }
  throw new Error(`expected ${code}, but it succeeded`);
}

const vmDirs = (): string[] => vmDirsIn(d.stateDir);

describe('bad input is refused and leaves nothing behind', () => {
  it('an invalid spec names each field and its rule', async () => {
    const e = await expectCode(d.client.createVm({ name: 'bad', cpu: { count: 0 }, memory: 'lots', disks: [{ name: 'a' }] }), 'SPEC_INVALID');
    const fields = (e.details as Array<{ field: string }>).map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['cpu.count', 'memory', 'disks.0.path']));
    expect(e.message).toMatch(/memory must look like 512Mi/);
  });

  it('unknown fields and future spec versions are refused', async () => {
    await expectCode(d.client.createVm({ ...guestSpec('x'), colour: 'blue' }), 'SPEC_INVALID');
    await expectCode(d.client.createVm({ ...guestSpec('x'), version: 7 }), 'SPEC_VERSION_UNSUPPORTED');
  });

  it.each(['a/b', '..', 'has space', 'semi;colon', '$(reboot)', '-rf', 'x'.repeat(64), 'back`tick`'])('refuses the name %j', async (bad) => {
    await expectCode(d.client.createVm(guestSpec('ok', { name: bad })), 'SPEC_INVALID');
  });

  it.each(['a b', '..', '%2e%2e', 'x;rm'])('refuses the VM name %j in a URL', async (bad) => {
    const e = await d.client.getVm(bad).then(() => undefined, (err: unknown) => err as PolyvisorError);
    expect(['INVALID_NAME', 'ROUTE_NOT_FOUND', 'VM_NOT_FOUND']).toContain(e?.code);
  });

  it('a kernel path that does not exist', async () => {
    await expectCode(d.client.createVm(guestSpec('nokernel', { boot: { kernel: '/nonexistent/vmlinuz' } })), 'FILE_NOT_FOUND');
  });

  it('an unknown VM', async () => {
    await expectCode(d.client.getVm('ghost'), 'VM_NOT_FOUND');
    await expectCode(d.client.action('ghost', 'start'), 'VM_NOT_FOUND');
    await expectCode(d.client.removeVm('ghost'), 'VM_NOT_FOUND');
  });

  it('nothing was written by any of the above', async () => {
    expect(await d.client.listVms()).toEqual([]);
    expect(vmDirs()).toEqual([]);
    expect(processesUnder(d.stateDir)).toEqual([]);
  });

  // The tests below make the VM dup themselves and remove it at their end (so 'nothing was written' above stays true in any order).
  it('a duplicate name', async () => {
    await d.client.createVm(guestSpec('dup'));
    try {
      const dirs = vmDirs();
      await expectCode(d.client.createVm(guestSpec('dup')), 'VM_EXISTS');
      expect(vmDirs()).toEqual(dirs);
    } finally {
      await d.client.removeVm('dup', { force: true });
    }
  });

  it('operations invalid in the current state list what is allowed', async () => {
    await d.client.createVm(guestSpec('dup'));
    try {
      const e = await expectCode(d.client.action('dup', 'pause'), 'INVALID_TRANSITION');
      expect(e.message).toMatch(/cannot pause VM dup while it is created; allowed now: start, remove/);
      await expectCode(d.client.action('dup', 'resume'), 'INVALID_TRANSITION');
      await expectCode(d.client.action('dup', 'stop'), 'INVALID_TRANSITION');
      expect((await d.client.getVm('dup')).state).toBe('created');
    } finally {
      await d.client.removeVm('dup', { force: true });
    }
  });

  it('malformed bodies and unknown routes', async () => {
    await d.client.createVm(guestSpec('dup'));
    try {
      await expectCode(d.client.createVm('just a string'), 'SPEC_INVALID');
      await expectCode(d.client.action('dup', 'stop', { timeoutSeconds: -1 }), 'INVALID_BODY');
      await expectCode(d.client.action('dup', 'explode' as never), 'ROUTE_NOT_FOUND');
    } finally {
      await d.client.removeVm('dup', { force: true });
    }
  });
});

describe('QEMU missing', () => {
  let q: TestDaemon;
  beforeAll(async () => {
    q = await startDaemon({ extraArgs: ['--qemu', '/nonexistent/qemu-system-x86_64'] });
  });
  afterAll(async () => {
    await q?.stop();
  });

  it('start fails with QEMU_MISSING and the VM stays stopped', async () => {
    await q.client.createVm(guestSpec('noqemu'));
    await expectCode(q.client.action('noqemu', 'start'), 'QEMU_MISSING');
    const v = await q.client.getVm('noqemu');
    expect(v.state).toBe('stopped');
    expect(v.stateReason).toMatch(/start failed/);
    expect(v.runtime).toBeNull();
    expect(processesUnder(q.stateDir)).toEqual([]);
  });
});
