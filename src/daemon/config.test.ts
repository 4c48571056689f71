import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, splitListen } from './config.js';

describe('daemon config', () => {
  it('layers file < environment < flags', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'pv-cfg-'));
    const file = path.join(dir, 'c.yaml');
    writeFileSync(file, 'stateDir: /tmp/from-file\nlisten: 127.0.0.1:9000\naccel: kvm\n');
    const c = loadConfig({ file, env: { POLYVISOR_LISTEN: '127.0.0.2:9001', POLYVISOR_ACCEL: 'tcg' }, flags: { accel: 'auto' } });
    expect(c.stateDir).toBe('/tmp/from-file');
    expect(c.listen).toBe('127.0.0.2:9001');
    expect(c.accel).toBe('auto');
    expect(c.socket).toBe('/tmp/from-file/polyvisord.sock');
    expect(c.dbFile).toBe('/tmp/from-file/polyvisor.db');
  });

  it('confines QEMU by default for a root daemon (each VM its own uid), runs it as the daemon\'s user for one that is not root', () => {
    expect(loadConfig({ env: {}, euid: 0 }).qemuUser).toBe('per-vm');
    expect(loadConfig({ env: {}, euid: 1000 }).qemuUser).toBe('root');
    expect(loadConfig({ env: { POLYVISOR_QEMU_USER: 'root' }, euid: 0 }).qemuUser).toBe('root');
    expect(loadConfig({ env: { POLYVISOR_QEMU_USER: 'per-vm' }, euid: 1000 }).qemuUser).toBe('per-vm');
    expect(() => loadConfig({ env: { POLYVISOR_QEMU_USER: 'nobody' }, euid: 0 })).toThrow(/qemuUser/);
  });

  it('rejects bad values naming the key', () => {
    expect(() => loadConfig({ env: {}, flags: { accel: 'xen' } })).toThrow(/accel/);
    expect(() => loadConfig({ env: { POLYVISOR_LISTEN: 'example.com:80' } })).toThrow(/listen/);
    expect(() => loadConfig({ env: { POLYVISOR_STOP_TIMEOUT: '0' } })).toThrow(/stopTimeoutSeconds/);
  });

  it('serves HTTPS by default beyond loopback, plain HTTP beyond it only when said out loud (audit defect 6)', () => {
    expect(loadConfig({ env: { POLYVISOR_LISTEN: '127.0.0.1:8006' } }).tls).toBe(false);
    expect(loadConfig({ env: { POLYVISOR_LISTEN: 'localhost:8006' } }).tls).toBe(false);
    expect(loadConfig({ env: { POLYVISOR_LISTEN: '0.0.0.0:8006' } }).tls).toBe(true);
    expect(loadConfig({ env: { POLYVISOR_LISTEN: '192.0.2.10:8006' } }).tls).toBe(true);
    expect(loadConfig({ env: { POLYVISOR_LISTEN: '0.0.0.0:8006', POLYVISOR_INSECURE_HTTP: '1' } }).tls).toBe(false);
    expect(loadConfig({ env: { POLYVISOR_LISTEN: '0.0.0.0:8006' }, flags: { insecureHttp: 'true', tls: 'false' } }).tls).toBe(false);
    expect(() => loadConfig({ env: { POLYVISOR_LISTEN: '0.0.0.0:8006', POLYVISOR_TLS: '0' } })).toThrow(/reaches beyond this machine/);
    try {
      loadConfig({ env: { POLYVISOR_LISTEN: '0.0.0.0:8006', POLYVISOR_TLS: 'off' } });
    } catch (err) {
      expect((err as { code: string; hint: string }).code).toBe('CONFIG_INVALID');
      expect((err as { hint: string }).hint).toMatch(/--insecure-http/);
    }
    expect(loadConfig({ env: { POLYVISOR_LISTEN: 'off', POLYVISOR_TLS: '0' } }).tls).toBe(false);
  });

  it('reads tls as a boolean from a file, the environment or a flag', () => {
    expect(loadConfig({ env: {} }).tls).toBe(false);
    expect(loadConfig({ env: { POLYVISOR_TLS: '1' } }).tls).toBe(true);
    expect(loadConfig({ env: { POLYVISOR_TLS: 'off' } }).tls).toBe(false);
    expect(loadConfig({ env: {}, flags: { tls: 'true' } }).tls).toBe(true);
    expect(() => loadConfig({ env: { POLYVISOR_TLS: 'maybe' } })).toThrow(/tls/);
  });

  it('parses listen addresses', () => {
    expect(splitListen('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 });
    expect(splitListen('off')).toBeNull();
  });
});
