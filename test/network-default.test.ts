/**
 * The default network (issue 18): a daemon that can build networks makes a
 * NAT network `default` on its first start, like libvirt's, on a private /24
 * no host route uses — here 10.123.0.0/24 is already routed in the daemon's
 * namespace, so it must pick another. A restart builds nothing twice; once an
 * administrator removes it, it stays removed. Everything in a namespace this
 * test creates.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetworkClient } from '../src/client/index.js';
import { startDaemon, tempStateDir, type TestDaemon } from './helpers/daemon.js';
import { limit } from './helpers/limits.js';
import { NetnsLab } from './helpers/netns.js';

const lab = new NetnsLab();
let ns = '';
let stateDir = '';
let d: TestDaemon | undefined;
const start = async () => (d = await startDaemon({ stateDir, netns: ns, env: { POLYVISOR_DEFAULT_NETWORK: '' } })); // the config default
const nets = () => new NetworkClient({ endpoint: { socketPath: d!.socket } });
const snapshot = async () => `${(await lab.exec(ns, 'nft', ['list', 'ruleset'])).stdout}\n${(await lab.exec(ns, 'ip', ['-br', 'link'])).stdout}`;

beforeAll(async () => {
  ns = await lab.add('defnet');
  await lab.exec(ns, 'ip', ['link', 'add', 'taken0', 'type', 'veth', 'peer', 'name', 'taken1']);
  await lab.exec(ns, 'ip', ['addr', 'add', '10.123.0.1/24', 'dev', 'taken0']);
  await lab.exec(ns, 'ip', ['link', 'set', 'taken0', 'up']);
  stateDir = tempStateDir('defnet');
}, limit('daemon'));

afterAll(async () => {
  await d?.stop();
  await lab.cleanup();
});

describe('the default network', () => {
  it('is made on the first start, on a subnet no route uses, and once', async () => {
    await start();
    const list = await nets().list();
    expect(list.map((n) => [n.name, n.mode])).toEqual([['default', 'nat']]);
    expect(list[0]!.subnet).toBe('10.123.1.0/24');
    expect((await lab.exec(ns, 'ip', ['-4', 'addr', 'show', 'dev', list[0]!.bridge])).stdout).toContain('10.123.1.1/24');
    const before = await snapshot();
    await d!.stop();
    await start();
    expect((await nets().list()).map((n) => n.name)).toEqual(['default']);
    expect(await snapshot()).toBe(before);
  });

  it('stays removed once an administrator removed it', async () => {
    await nets().remove('default');
    await d!.stop();
    await start();
    expect(await nets().list()).toEqual([]);
  });
});
