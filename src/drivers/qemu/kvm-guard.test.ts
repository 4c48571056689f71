/**
 * The runtime guard beside the accelerator probe: a guest whose vCPUs KVM
 * stopped with an internal error (run state internal-error) is paused with a
 * reason saying so, the driver is told, and the accelerator answer cached for
 * later starts becomes TCG. The QMP side is a stand-in object here (no
 * machine available to the suite reproduces a KVM internal error on demand:
 * on this project's machines the probe guest itself catches the case first).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../shared/index.js';
import type { DriverEvent } from '../driver.js';
import { ACCEL_CACHE_FILE, probeAccel, rememberKvmFailure } from './accel.js';
import { KVM_INTERNAL_ERROR_REASON, QemuInstance } from './instance.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'pv-kvmguard-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A QMP stand-in: events are pushed by the test; query-status answers `status`. */
function fakeQmp(status: () => string) {
  const listeners: Array<(e: { event: string; data?: unknown }) => void> = [];
  return {
    qmp: {
      on: (what: string, f: (e: { event: string; data?: unknown }) => void) => { if (what === 'event') listeners.push(f); },
      execute: (cmd: string) => Promise.resolve(cmd === 'query-status' ? { status: status() } : {}),
      close: () => undefined,
    },
    push: (event: string) => { for (const f of listeners) f({ event }); },
  };
}

function instance(accel: 'kvm' | 'tcg', status: () => string, onKvm: (why: string) => void) {
  const q = fakeQmp(status);
  const inst = new QemuInstance({
    plan: { id: 'id', spec: {} as never, dir: tmp, diskPaths: {} }, files: {} as never, pid: 1, qmp: q.qmp as never,
    info: { pid: 1, accel, startedAt: new Date().toISOString(), qemuVersion: '7.2.22' }, logger: silentLogger, onKvmInternalError: onKvm,
  });
  const events: DriverEvent[] = [];
  inst.onEvent((e) => events.push(e));
  return { q, events };
}

const settle = () => new Promise((r) => setTimeout(r, 20));

describe('KVM internal error at run time', () => {
  it('a STOP with run state internal-error under KVM pauses the VM with the reason and tells the driver; a plain pause or TCG does not', async () => {
    let status = 'internal-error';
    const told: string[] = [];
    const k = instance('kvm', () => status, (w) => told.push(w));
    k.q.push('STOP');
    await settle();
    expect(k.events.at(-1)).toEqual({ type: 'paused', reason: KVM_INTERNAL_ERROR_REASON });
    expect(told).toEqual([KVM_INTERNAL_ERROR_REASON]);
    status = 'paused';
    k.q.push('STOP');
    await settle();
    expect(told).toHaveLength(1);
    const t = instance('tcg', () => 'internal-error', (w) => told.push(w));
    t.q.push('STOP');
    await settle();
    expect(told).toHaveLength(1);
    expect(t.events.every((e) => e.type !== 'paused' || e.reason !== KVM_INTERNAL_ERROR_REASON)).toBe(true);
  });

  it('remembering the failure makes the cached answer TCG, naming the VM and how to probe again', async () => {
    const qemu = path.join(tmp, 'qemu-system-x86_64');
    writeFileSync(qemu, '#!/bin/sh\necho "QEMU emulator version 7.2.22 (stand-in)"\n', { mode: 0o755 });
    const kvm = path.join(tmp, 'kvm');
    writeFileSync(kvm, '');
    const cacheDir = path.join(tmp, 'cache');
    const r = await rememberKvmFailure({ qemuBinary: qemu, cacheDir, vm: 'web', why: KVM_INTERNAL_ERROR_REASON });
    expect(r).toMatchObject({ accel: 'tcg', kvmTried: true });
    expect(r.reason).toMatch(/KVM stopped VM web with an internal error .*remove .*accel-probe\.json/);
    expect(existsSync(path.join(cacheDir, ACCEL_CACHE_FILE))).toBe(true);
    // The next probe (this daemon after a restart) answers from the cache: TCG, without running a KVM guest.
    const again = await probeAccel({ qemuBinary: qemu, cacheDir, override: 'auto', kvmDevice: kvm });
    expect(again.accel).toBe('tcg');
    expect(again.reason).toMatch(/KVM stopped VM web/);
    expect(JSON.parse(readFileSync(path.join(cacheDir, ACCEL_CACHE_FILE), 'utf8')).probe.accel).toBe('tcg');
  });
});
