/** The accelerator probe: the boot sector really runs (under TCG), and the choice logic. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../shared/index.js';
import { ACCEL_CACHE_FILE, probeAccel, runProbeGuest } from './accel.js';
import { probeBootSector } from './probe-image.js';

const QEMU = process.env['POLYVISOR_QEMU'] ?? 'qemu-system-x86_64';
const hasQemu = (process.env['PATH'] ?? '').split(':').some((d) => existsSync(path.join(d, QEMU))) || existsSync(QEMU);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'pv-accel-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('probe boot sector', () => {
  it('is a valid 512-byte boot sector', () => {
    const s = probeBootSector();
    expect(s.length).toBe(512);
    expect([s[510], s[511]]).toEqual([0x55, 0xaa]);
  });

  it('matches probe-boot.S when binutils is installed', async () => {
    const src = path.join(import.meta.dirname, 'probe-boot.S');
    const obj = path.join(tmp, 'p.o');
    const bin = path.join(tmp, 'p.bin');
    try {
      await run('as', ['--64', '-o', obj, src], { timeoutMs: 10_000 });
      await run('ld', ['-Ttext', '0x7c00', '--oformat', 'binary', '-o', bin, obj], { timeoutMs: 10_000 });
    } catch {
      return; // no assembler here: nothing to compare against
    }
    expect(readFileSync(bin).equals(probeBootSector())).toBe(true);
  });
});

describe.skipIf(!hasQemu)(`accelerator probe with real QEMU${hasQemu ? '' : ' (SKIPPED: QEMU not installed)'}`, () => {
  it('prints every stage under TCG (proves the boot sector works)', async () => {
    const r = await runProbeGuest({ qemuBinary: QEMU, accel: 'tcg' });
    expect(r.failure).toBeUndefined();
    expect(r.ok).toBe(true);
    expect(r.output).toMatch(/R.*P.*M.*LPV-PROBE-OK/s);
    expect(r.ms).toBeLessThan(5_000);
  });

  it('probes KVM and caches the answer (the outcome depends on the host)', async () => {
    const cacheDir = path.join(tmp, 'cache');
    const first = await probeAccel({ qemuBinary: QEMU, cacheDir, override: 'auto' });
    expect(['kvm', 'tcg']).toContain(first.accel);
    expect(first.reason.length).toBeGreaterThan(5);
    if (first.kvmTried) {
      expect(existsSync(path.join(cacheDir, ACCEL_CACHE_FILE))).toBe(true);
      const t0 = Date.now();
      const again = await probeAccel({ qemuBinary: QEMU, cacheDir, override: 'auto' });
      expect(Date.now() - t0).toBeLessThan(1_000);
      expect(again.accel).toBe(first.accel);
      expect(again.reason).toMatch(/\(probed /);
    }
  });

  it('reports a missing QEMU binary as QEMU_MISSING', async () => {
    await expect(runProbeGuest({ qemuBinary: 'no-such-qemu-binary', accel: 'tcg' })).rejects.toMatchObject({ code: 'QEMU_MISSING' });
  });
});

describe('accelerator choice without probing', () => {
  it('follows the config override', async () => {
    expect(await probeAccel({ qemuBinary: QEMU, override: 'tcg' })).toMatchObject({ accel: 'tcg', kvmTried: false });
    expect(await probeAccel({ qemuBinary: QEMU, override: 'kvm' })).toMatchObject({ accel: 'kvm', kvmTried: false });
  });

  it('falls back to TCG when /dev/kvm is missing', async () => {
    const p = await probeAccel({ qemuBinary: QEMU, override: 'auto', kvmDevice: '/nonexistent/kvm' });
    expect(p).toMatchObject({ accel: 'tcg', kvmTried: false });
    expect(p.reason).toMatch(/\/nonexistent\/kvm missing/);
  });
});
