/**
 * Errors as a person at the terminal reads them: the stable code on the line, each field once in
 * Polyvisor's own words, and hints that name the next command.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, killQemusUnder, startDaemon, type TestDaemon } from './helpers/daemon.js';
import { guestSpec } from './helpers/vm.js';

let d: TestDaemon;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [path.join(ROOT, 'bin', 'polyvisor.js'), '--socket', d.socket, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    p.once('error', reject);
    p.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

beforeAll(async () => {
  d = await startDaemon();
});

afterAll(async () => {
  await d?.stop();
  if (d) killQemusUnder(d.stateDir);
});

describe('CLI errors', () => {
  it('put the stable code on the human line', async () => {
    const r = await cli(['vm', 'show', 'nope']);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('error[VM_NOT_FOUND]: no VM named nope\n  hint: List VMs with `polyvisor vm list`.\n');
  });

  it('name a bad field once, in one phrasing per rule, never in the validator\'s words', async () => {
    const name = await cli(['vm', 'create', '../../etc', '--memory', '256Mi']);
    expect(name.code).toBe(2);
    expect(name.stderr).toMatch(/^error\[SPEC_INVALID\]: invalid spec: name: /);
    expect(name.stderr.match(/name: /g)).toHaveLength(1);

    const form = 'memory: memory must look like 512Mi, 2Gi or 262084Ki';
    const spec = path.join(d.stateDir, 'bad.yaml');
    writeFileSync(spec, 'name: bad\nmemory: true\ncpu: {count: 0}\nboot: {kernel: /k}\n');
    const file = await cli(['spec', 'validate', spec]);
    expect(file.code).toBe(2);
    expect(file.stderr).toContain(form);
    expect(file.stderr).toContain('cpu.count: must be at least 1');
    expect((await cli(['vm', 'create', 'bad', '--memory', 'lots', '--kernel', '/k'])).stderr).toContain(form);
    for (const r of [name, file]) expect(r.stderr).not.toMatch(/Invalid input|Too small|expected \w+, received/);
  });

  it('vm rm of a running VM names --force; vm stop of a guest that ignores ACPI says what it waits for and names vm kill', async () => {
    await d.client.createVm(guestSpec('deaf', {}, 'acpi=off'));
    await d.client.action('deaf', 'start');
    const rm = await cli(['vm', 'rm', 'deaf']);
    expect(rm.code).toBe(4);
    expect(rm.stderr).toMatch(/^error\[INVALID_TRANSITION\]: cannot remove VM deaf while it is running/);
    expect(rm.stderr).toContain('`polyvisor vm rm deaf --force`');

    const stop = await cli(['vm', 'stop', 'deaf', '--timeout', '5']);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/^deaf: stopped/);
    expect(stop.stderr).toMatch(/waiting for deaf to power off \(ACPI power button\), \d+ s so far; \d+ s more, then killed\. `polyvisor vm kill deaf` stops it at once\./);
    await cli(['vm', 'rm', 'deaf']);
  });
});
