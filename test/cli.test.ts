/** The CLI against a real daemon: tables, --json, exit codes, console with a detach key. */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, killQemusUnder, startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { removeAllVms } from './helpers/isolate.js';
import { scaled } from './helpers/limits.js';
import { READY, guestSpec, waitForLine } from './helpers/vm.js';
import { stringify } from 'yaml';

let d: TestDaemon;
beforeAll(async () => {
  d = await startDaemon();
});
afterEach(() => removeAllVms(d));
afterAll(async () => {
  await d?.stop();
  killQemusUnder(d.stateDir);
});

function cli(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', d.socket, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    if (input !== undefined) {
      // Type slowly, like a person: the guest shell needs time to answer before we detach.
      const parts = input.split('\u001d');
      p.stdin.write(parts[0]!);
      setTimeout(() => p.stdin.end('\u001d'), scaled(4000));
    } else p.stdin.end();
  });
}

describe('polyvisor CLI', () => {
  const specFile = path.join(tempStateDir('spec'), 'web.yaml');
  const writeSpec = () => writeFileSync(specFile, stringify({ ...guestSpec('web'), labels: { env: 'test' } }));
  /** Set-up: the VM web made from the spec file, as the first test makes it. */
  async function createWeb(): Promise<void> {
    writeSpec();
    await d.client.createVm({ ...guestSpec('web'), labels: { env: 'test' } });
  }

  it('creates from a YAML file and lists as a table and as JSON', async () => {
    writeSpec();
    const c = await cli(['vm', 'create', 'web', '--from', specFile]);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(c.stdout).toBe('web: created (created)\n');
    const t = await cli(['vm', 'list']);
    expect(t.stdout.split('\n')[0]).toMatch(/^NAME\s+STATE\s+VCPUS\s+MEMORY/);
    expect(t.stdout).toMatch(/web\s+created\s+1\s+128 MiB/);
    const j = JSON.parse((await cli(['vm', 'list', '--json'])).stdout) as Array<{ name: string; spec: { labels: object } }>;
    expect(j.map((v) => v.name)).toEqual(['web']);
    expect(j[0]!.spec.labels).toEqual({ env: 'test' });
    expect(JSON.parse((await cli(['vm', 'list', '-l', 'env=prod', '--json'])).stdout)).toEqual([]);
  });

  it('exit codes say what went wrong', async () => {
    await createWeb();
    const dup = await cli(['vm', 'create', 'web', '--from', specFile]);
    expect(dup.code).toBe(4);
    expect(dup.stderr).toMatch(/^error\[VM_EXISTS\]: a VM named web already exists\n {2}hint: /);
    expect((await cli(['vm', 'show', 'nope'])).code).toBe(3);
    expect((await cli(['vm', 'pause', 'web'])).code).toBe(4);
    expect((await cli(['vm', 'create', 'bad name', '--memory', '64Mi'])).code).toBe(2);
    expect((await cli(['vm', 'frobnicate'])).code).toBe(2);
    const unreachable = await new Promise<number>((resolve) => {
      const p = spawn(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', '/tmp/no-such.sock', 'vm', 'list']);
      p.on('close', (code) => resolve(code ?? -1));
    });
    expect(unreachable).toBe(5);
  });

  it('starts, shows, and attaches to the console; Ctrl-] detaches', async () => {
    await createWeb();
    expect((await cli(['vm', 'start', 'web'])).stdout).toBe('web: running (started)\n');
    await waitForLine(d.client, 'web', READY);
    const show = await cli(['vm', 'show', 'web']);
    expect(show.stdout).toMatch(/State\s+running \(started\)/);
    expect(show.stdout).toMatch(/Labels\s+env=test/);
    const con = await cli(['console', 'web'], 'echo cli-$((6*7))\n\u001d');
    expect(con.code).toBe(0);
    expect(con.stdout).toContain('cli-42');
    expect(con.stderr).toContain('Detached.');
  });

  it('stops with --json and removes', async () => {
    await createWeb();
    await d.client.action('web', 'start');
    await waitForLine(d.client, 'web', READY); // a graceful stop needs the guest up
    const s = JSON.parse((await cli(['vm', 'stop', 'web', '--json'])).stdout) as { state: string };
    expect(s.state).toBe('stopped');
    expect((await cli(['vm', 'rm', 'web'])).stdout).toBe('web: removed\n');
  });

  it('prints the spec JSON Schema and validates files offline', async () => {
    const s = JSON.parse((await cli(['spec', 'schema'])).stdout) as { properties: Record<string, unknown> };
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['name', 'cpu', 'memory', 'disks', 'networks', 'boot', 'labels', 'version']));
    const bad = path.join(tempStateDir('spec'), 'bad.yaml');
    writeFileSync(bad, 'name: x\ncpu: {count: two}\n');
    const v = await cli(['spec', 'validate', bad]);
    expect(v.code).toBe(2);
    expect(v.stderr).toMatch(/cpu\.count/);
  });
});
