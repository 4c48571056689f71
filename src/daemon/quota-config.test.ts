import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.js';
import { resolveQuotas } from './quota-config.js';

const GIB = 1024 ** 3;
const host = { cpus: 4, memoryBytes: 16 * GIB };

async function configFile(text: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(tmpdir(), 'pv-quota-config-')), 'config.yaml');
  await writeFile(file, text);
  return file;
}

describe('quotas in the daemon config', () => {
  it('defaults: operators bounded by the host, no entry for admins', () => {
    const q = resolveQuotas(loadConfig({ env: {} }).quotas, host);
    expect(q).toEqual({ roles: { operator: { vms: 64, vcpus: 16, memoryBytes: 32 * GIB, vmVcpus: 4, vmMemoryBytes: 16 * GIB } }, tokens: {} });
  });

  it('reads roles and tokens from the file; a role given replaces its default whole; memory as size text or MiB', async () => {
    const file = await configFile([
      'quotas:',
      '  roles:',
      '    operator: { vms: 10, memory: 32Gi }',
      '    admin: { vmMemory: 2048 }',
      '  tokens:',
      '    ci-bot: { vms: 2, vcpus: 4 }',
    ].join('\n'));
    const q = resolveQuotas(loadConfig({ file, env: {} }).quotas, host);
    expect(q).toEqual({ roles: { operator: { vms: 10, memoryBytes: 32 * GIB }, admin: { vmMemoryBytes: 2 * GIB } }, tokens: { 'ci-bot': { vms: 2, vcpus: 4 } } });
    const lifted = resolveQuotas(loadConfig({ file: await configFile('quotas: { roles: { operator: {} } }'), env: {} }).quotas, host);
    expect(lifted.roles.operator).toEqual({});
  });

  it('refuses a bad value with CONFIG_INVALID naming the key', async () => {
    for (const text of ['quotas: { roles: { operator: { vms: -1 } } }', 'quotas: { roles: { operator: { memory: lots } } }', 'quotas: { roles: { boss: {} } }', 'quotas: { roles: { operator: { cpus: 2 } } }']) {
      const file = await configFile(text);
      expect(() => loadConfig({ file, env: {} }), text).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID', message: expect.stringContaining('quotas') }));
    }
  });
});
