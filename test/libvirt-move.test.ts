/**
 * Moves between this daemon and a libvirt endpoint, through the daemon and
 * the CLI, with a real (private) libvirtd from scripts/libvirtd.sh: a local
 * VM booting the project's test guest from its disk is moved to libvirt
 * (`vm move --to`, its disk copied as qcow2, defined, started there: the
 * guest's ready line in the domain's serial log), then imported back
 * (`import ENDPOINT/VM --shutdown`) and booted here again.
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from './helpers/daemon.js';
import { testGuest } from './helpers/guest.js';
import { runCli } from './helpers/http.js';
import { startLibvirtd, type PrivateLibvirtd } from './helpers/libvirtd.js';
import { limit } from './helpers/limits.js';
import { READY, countLines, waitForLine } from './helpers/vm.js';

let lv: PrivateLibvirtd;
let d: TestDaemon;
const work = mkdtempSync(path.join(os.tmpdir(), 'pv-libvirt-move-'));
const diskRoot = path.join(work, 'libvirt-disks');
const cli = (args: string[]) => runCli(['--socket', d.socket, ...args]);

beforeAll(async () => {
  lv = startLibvirtd('libvirt-move');
  d = await startDaemon({ env: { POLYVISOR_LIBVIRT_DISK_ROOT: diskRoot } });
}, limit('daemon', 3));
afterAll(async () => {
  await d?.client.removeVm('back', { force: true }).catch(() => undefined);
  await d?.stop();
  lv?.stop();
  rmSync(work, { recursive: true, force: true });
});

async function waitFile(file: string, text: string, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (existsSync(file) && countLines(readFileSync(file, 'latin1'), text) > 0) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`"${text}" not in ${file} within ${ms} ms:\n${existsSync(file) ? readFileSync(file, 'latin1').slice(-1500) : '(no file)'}`);
}

describe('moves between the local engine and libvirt (a private libvirtd)', () => {
  it('vm move --to libvirt boots there; import --shutdown brings it back and it boots here', async () => {
    const disk = path.join(work, 'guest.raw');
    copyFileSync(testGuest().disk, disk);
    const spec = path.join(work, 'web.json');
    writeFileSync(spec, JSON.stringify({ name: 'web', memory: '262084Ki', disks: [{ name: 'root', path: disk, format: 'raw' }] }));
    expect((await cli(['vm', 'create', 'web', '--from', spec])).code).toBe(0);
    expect((await cli(['endpoint', 'add', 'lv', '--driver', 'libvirt', '--url', lv.uri])).code).toBe(0);

    const moved = await cli(['vm', 'move', 'web', '--to', 'lv', '--start', '--no-progress']);
    expect(moved.stderr).toBe('');
    expect(moved.stdout).toMatch(/^web: moved to lv\/web \(running\); copied root\n$/);
    expect((await d.client.listVms()).map((v) => v.name)).not.toContain('web');
    await waitFile(path.join(diskRoot, 'web', 'serial.log'), READY, limit('boot'));
    const shown = JSON.parse((await cli(['vm', 'show', 'lv/web', '--json'])).stdout) as { state: string; driver: string; disks: Array<{ location: string }> };
    expect(shown).toMatchObject({ state: 'running', driver: 'libvirt' });
    expect(shown.disks[0]!.location).toBe(path.join(diskRoot, 'web', 'root.qcow2'));

    const back = await cli(['import', 'lv/web', '--name', 'back', '--shutdown', '--no-progress']);
    expect(back.stderr).toBe('');
    expect(back.stdout).toMatch(/^back: imported from lv\/web \(running\)/);
    expect(JSON.parse((await cli(['vm', 'show', 'lv/web', '--json'])).stdout)).toMatchObject({ state: 'stopped' });
    await waitForLine(d.client, 'back', READY, { timeoutMs: limit('boot') });
  }, limit('boot', 4));
});
