import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { isPolyvisorError, type PolyvisorError } from '../shared/index.js';
import { validateSpec, type VmSpec } from '../spec/index.js';
import type { VmRecord } from '../store/index.js';
import { checkPortForwards, forwardHeldByVm, probeHostPort, sameHostPort } from './port-forwards.js';

type Fwd = { hostPort: number; hostAddress?: string; protocol?: 'tcp' | 'udp'; guestPort?: number };
const spec = (name: string, fwds: Fwd[]): VmSpec =>
  validateSpec({ name, memory: '128Mi', boot: { kernel: '/boot/vmlinuz' }, networks: [{ name: 'net0', portForwards: fwds.map((f) => ({ guestPort: 80, ...f })) }] });
const rec = (s: VmSpec, state: VmRecord['state']): VmRecord => ({
  id: s.name, name: s.name, spec: s, state, stateReason: '', host: 'h', runtime: null, createdAt: '', updatedAt: '', generation: 1,
});

async function caught(p: Promise<unknown>): Promise<PolyvisorError> {
  try {
    await p;
  } catch (err) {
    if (isPolyvisorError(err)) return err;
    throw err;
  }
  throw new Error('expected a PolyvisorError');
}

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});
async function holdTcp(host = '127.0.0.1'): Promise<number> {
  const s = createServer();
  servers.push(s);
  await new Promise<void>((r) => s.listen({ host, port: 0 }, r));
  return (s.address() as AddressInfo).port;
}

describe('host-port forwards before QEMU starts', () => {
  it('sees the same host socket: protocol and port equal, address equal or 0.0.0.0', () => {
    const f = (hostPort: number, hostAddress = '127.0.0.1', protocol: 'tcp' | 'udp' = 'tcp') => ({ hostPort, hostAddress, protocol, guestPort: 80 });
    expect(sameHostPort(f(8080), f(8080))).toBe(true);
    expect(sameHostPort(f(8080), f(8080, '0.0.0.0'))).toBe(true);
    expect(sameHostPort(f(8080), f(8081))).toBe(false);
    expect(sameHostPort(f(8080), f(8080, '127.0.0.2'))).toBe(false);
    expect(sameHostPort(f(8080), f(8080, '127.0.0.1', 'udp'))).toBe(false);
  });

  it('names the running VM that forwards the port, and ignores stopped VMs and the VM itself', async () => {
    const web = spec('web', [{ hostPort: 8080 }]);
    const demo = spec('demo', [{ hostPort: 8080 }]);
    expect(forwardHeldByVm(web, [rec(demo, 'stopped'), rec(web, 'running')])).toBeUndefined();
    expect(forwardHeldByVm(web, [rec(demo, 'running')])?.vm.name).toBe('demo');
    const free = async () => undefined;
    const e = await caught(checkPortForwards(web, [rec(demo, 'paused')], free));
    expect(e.code).toBe('PORT_IN_USE');
    expect(e.message).toBe('host port tcp 127.0.0.1:8080 of VM web is already forwarded by VM demo (paused)');
    expect(e.details).toMatchObject({ port: 8080, heldBy: 'demo' });
    await expect(checkPortForwards(web, [rec(demo, 'created')], free)).resolves.toBeUndefined();
  });

  it('binds each forward briefly: a TCP port another program holds fails naming the port; a free one passes and stays free', async () => {
    const port = await holdTcp();
    expect(await probeHostPort({ protocol: 'tcp', hostAddress: '127.0.0.1', hostPort: port, guestPort: 80 })).toBe('EADDRINUSE');
    const e = await caught(checkPortForwards(spec('web', [{ hostPort: port }]), []));
    expect(e.code).toBe('PORT_IN_USE');
    expect(e.message).toBe(`host port tcp 127.0.0.1:${port} of VM web cannot be forwarded: another program listens on it`);
    await new Promise((r) => servers.pop()!.close(r));
    await expect(checkPortForwards(spec('web', [{ hostPort: port }]), [])).resolves.toBeUndefined();
    // the probe let go of it: the port can be bound again at once
    const again = createServer();
    servers.push(again);
    await new Promise<void>((r, j) => again.once('error', j).listen({ host: '127.0.0.1', port }, r));
  });

  it('a UDP port held by another socket fails too', async () => {
    const s = createSocket('udp4');
    await new Promise<void>((r) => s.bind({ address: '127.0.0.1', port: 0 }, r));
    const port = s.address().port;
    try {
      const e = await caught(checkPortForwards(spec('dns', [{ hostPort: port, protocol: 'udp' }]), []));
      expect(e.message).toContain(`udp 127.0.0.1:${port}`);
    } finally {
      s.close();
    }
  });
});
