import { describe, expect, it } from 'vitest';
import { isPolyvisorError } from '../shared/index.js';
import { specJsonSchema } from './json-schema.js';
import { parseSpecText, upgradeSpec, validateSpec } from './parse.js';
import { formatSize, parseSize } from './units.js';

const problems = (fn: () => unknown): Array<{ field: string; message: string }> => {
  try {
    fn();
  } catch (err) {
    if (isPolyvisorError(err, 'SPEC_INVALID')) return err.details as Array<{ field: string; message: string }>;
    throw err;
  }
  throw new Error('expected SPEC_INVALID');
};

describe('VM spec v1', () => {
  it('applies every default to a minimal YAML spec', () => {
    const s = parseSpecText('name: web\nboot:\n  kernel: /boot/vmlinuz\n');
    expect(s).toEqual({
      version: 1, name: 'web', description: '', labels: {},
      cpu: { count: 1, sockets: 1, cores: 1, threads: 1, model: 'max' },
      memory: 256 * 1024 ** 2,
      machine: { type: 'q35', accel: 'auto' },
      boot: { firmware: 'bios', kernel: '/boot/vmlinuz', order: ['disk', 'cdrom'] },
      disks: [], networks: [],
      serial: { enabled: true }, agent: { enabled: true }, display: { vnc: false },
    });
  });

  it('reads JSON as well as YAML, and sizes in every unit', () => {
    const s = parseSpecText('{"name":"j","memory":"262084Ki","disks":[{"name":"d","size":"10Gi"}]}');
    expect(s.memory).toBe(262084 * 1024);
    expect(s.disks[0]).toMatchObject({ name: 'd', size: 10 * 1024 ** 3, format: 'qcow2', bus: 'virtio', readOnly: false });
    expect(validateSpec({ name: 'n', memory: 512, boot: { kernel: '/k' } }).memory).toBe(512 * 1024 ** 2);
  });

  it('derives topology and checks it', () => {
    expect(validateSpec({ name: 'a', cpu: { count: 4, sockets: 2 }, boot: { kernel: '/k' } }).cpu).toMatchObject({ sockets: 2, cores: 2, threads: 1 });
    expect(problems(() => validateSpec({ name: 'a', cpu: { count: 3, sockets: 2, cores: 2 }, boot: { kernel: '/k' } }))[0]!.field).toBe('cpu.count');
  });

  it('names the field and the rule of every problem', () => {
    const p = problems(() =>
      validateSpec({
        name: 'bad name', memory: '1Pb', cpu: { count: 0 },
        disks: [{ name: 'x', path: '/a b' }, { name: 'x', size: '1Gi' }],
        networks: [{ portForwards: [{ hostPort: 70000, guestPort: 22 }] }],
      }),
    );
    const fields = p.map((x) => x.field);
    expect(fields).toEqual(expect.arrayContaining(['name', 'memory', 'cpu.count', 'disks.0.path', 'networks.0.portForwards.0.hostPort']));
    expect(p.find((x) => x.field === 'disks.0.path')!.message).toMatch(/absolute path/);
  });

  it('refuses paths with .. , shell characters, or both path and size', () => {
    for (const path of ['/a/../etc/passwd', '/x;rm -rf', '/x$(id)', 'relative/path', '/a,b']) {
      expect(problems(() => validateSpec({ name: 'a', disks: [{ name: 'd', path }] })).some((x) => x.field === 'disks.0.path'), path).toBe(true);
    }
    expect(problems(() => validateSpec({ name: 'a', disks: [{ name: 'd', path: '/x', size: '1Gi' }] }))[0]!.message).toMatch(/exactly one of path/);
    expect(problems(() => validateSpec({ name: 'a', disks: [{ name: 'd', path: '/x', bus: 'sata', readOnly: true }] }))[0]!.field).toBe('disks.0.readOnly');
  });

  it('cross-field rules: something to boot, no duplicate names or forwarded ports, host CPU needs KVM', () => {
    expect(problems(() => validateSpec({ name: 'a' }))[0]!.message).toMatch(/nothing to boot/);
    const dup = { hostPort: 8080, guestPort: 80 };
    expect(problems(() => validateSpec({ name: 'a', boot: { kernel: '/k' }, networks: [{ portForwards: [dup, dup] }] }))[0]!.message).toMatch(/forwarded twice/);
    // 0.0.0.0 takes the port on every address (audit defect 9): it clashes with a loopback forward of the same port, also on another NIC
    const any = { hostAddress: '0.0.0.0', hostPort: 8080, guestPort: 81 };
    expect(problems(() => validateSpec({ name: 'a', boot: { kernel: '/k' }, networks: [{ name: 'n0', portForwards: [dup] }, { name: 'n1', portForwards: [any] }] }))[0]).toMatchObject({
      field: 'networks.1.portForwards.0.hostPort', message: expect.stringMatching(/forwarded twice \(127\.0\.0\.1:8080 takes it too\)/),
    });
    expect(() => validateSpec({ name: 'a', boot: { kernel: '/k' }, networks: [{ portForwards: [dup, { ...dup, protocol: 'udp' }, { ...dup, hostAddress: '127.0.0.2' }] }] })).not.toThrow();
    // QEMU's per-machine vCPU ceiling: pc (i440fx) 255; q35 takes the schema's 256
    expect(problems(() => validateSpec({ name: 'a', boot: { kernel: '/k' }, machine: { type: 'pc' }, cpu: { count: 256 } }))[0]).toMatchObject({ field: 'cpu.count', message: expect.stringContaining('at most 255') });
    expect(problems(() => validateSpec({ name: 'a', boot: { kernel: '/k' }, machine: { type: 'pc' }, cpu: { count: 2, max: 256 } }))[0]!.field).toBe('cpu.max');
    expect(validateSpec({ name: 'a', boot: { kernel: '/k' }, cpu: { count: 256 } }).cpu.count).toBe(256);
    // restrict (QEMU restrict=on) is for user-mode NICs only
    expect(validateSpec({ name: 'a', boot: { kernel: '/k' }, networks: [{ restrict: true }] }).networks[0]).toMatchObject({ type: 'user', restrict: true });
    expect(problems(() => validateSpec({ name: 'a', boot: { kernel: '/k' }, networks: [{ network: 'lab', restrict: true }] }))[0]!.field).toBe('networks.0.restrict');
    expect(problems(() => validateSpec({ name: 'a', boot: { kernel: '/k' }, cpu: { model: 'host' }, machine: { accel: 'tcg' } }))[0]!.field).toBe('cpu.model');
  });

  it('carries a version: absent means the newest (2), a spec is written with the lowest that holds it, newer is refused with its own code', () => {
    expect(upgradeSpec({ name: 'a' })['version']).toBe(2);
    expect(upgradeSpec({ name: 'a', version: 1 })['version']).toBe(2);
    expect(validateSpec({ name: 'a', version: 2, boot: { kernel: '/k' } }).version).toBe(1);
    expect(() => validateSpec({ name: 'a', version: 3, boot: { kernel: '/k' } })).toThrow(expect.objectContaining({ code: 'SPEC_VERSION_UNSUPPORTED' }));
    expect(() => validateSpec({ name: 'a', version: 'one' })).toThrow(expect.objectContaining({ code: 'SPEC_VERSION_UNSUPPORTED' }));
  });

  it('reports broken YAML as SPEC_PARSE_FAILED', () => {
    expect(() => parseSpecText('name: [unclosed')).toThrow(expect.objectContaining({ code: 'SPEC_PARSE_FAILED' }));
  });

  it('exports a JSON Schema of the input', () => {
    const s = specJsonSchema() as { properties: Record<string, { default?: unknown }>; required: string[] };
    expect(s.required).toEqual(['name']);
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['version', 'cpu', 'memory', 'disks', 'networks', 'boot', 'labels']));
  });

  it('formats and parses sizes exactly', () => {
    expect(parseSize('256Mi')).toBe(268435456);
    expect(parseSize('12 parsecs')).toBeUndefined();
    expect(formatSize(268374016)).toBe('262084Ki');
    expect(formatSize(1024 ** 3)).toBe('1Gi');
  });
});
