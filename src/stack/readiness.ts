/**
 * Readiness of a stack VM: the guest agent answers, a TCP port opens (the
 * host side of its port forward, else its address on a virtual network), or
 * a command run in the guest by its agent succeeds. Each try is bounded; the
 * wait as a whole has the condition's timeout and the apply's AbortSignal.
 */
import net from 'node:net';
import { fail, sleep, timeoutSignal, anySignal } from '../shared/index.js';
import { guestExecOf, guestInfoOf, type VmService } from '../lifecycle/index.js';
import type { NetworkService } from '../lifecycle/index.js';
import type { Readiness } from './schema.js';

/** The longest one `exec:` command may run before that try counts as failed. */
const EXEC_TRY_MS = 10_000;

export interface ReadinessDeps {
  vms: VmService;
  networks?: NetworkService | undefined;
}

/** Where `port` of the guest is reachable from this host: its forward's host side, or its reserved address. */
export async function tcpTarget(d: ReadinessDeps, vm: string, port: number): Promise<{ host: string; port: number } | undefined> {
  const rec = await d.vms.get(vm);
  for (const nic of rec.spec.networks) {
    const f = nic.portForwards.find((p) => p.protocol === 'tcp' && p.guestPort === port);
    if (f) return { host: f.hostAddress === '0.0.0.0' ? '127.0.0.1' : f.hostAddress, port: f.hostPort };
  }
  if (d.networks) {
    for (const n of await d.networks.list()) {
      const nic = n.nics.find((x) => x.vm === vm && x.ip !== null);
      if (nic) return { host: nic.ip!, port };
    }
  }
  return undefined;
}

/**
 * True when a TCP connection to host:port opens and stays open for a moment.
 * The moment matters for forwarded ports: QEMU's user-mode network accepts on
 * the host side at once and closes the socket when the guest refuses, so an
 * accept alone proves nothing.
 */
function tcpOpen(host: string, port: number, signal: AbortSignal, holdMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port, signal });
    let timer: NodeJS.Timeout | undefined;
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(ok);
    };
    s.once('connect', () => {
      timer = setTimeout(() => done(true), holdMs);
    });
    s.once('end', () => done(false));
    s.once('close', () => done(false));
    s.once('error', () => done(false));
  });
}

/** One try: undefined when ready, else why not. */
export async function checkOnce(d: ReadinessDeps, vm: string, r: Readiness, signal: AbortSignal): Promise<string | undefined> {
  const rec = await d.vms.get(vm);
  if (rec.state !== 'running') return `it is ${rec.state}`;
  if (r.agent) {
    const info = await guestInfoOf(d.vms, vm, timeoutSignal(5_000, signal)).catch((err: unknown) => ({ agent: { responding: false, error: (err as Error).message } }));
    return info.agent.responding ? undefined : `its guest agent does not answer (${info.agent.error ?? 'no answer'})`;
  }
  if (r.tcp !== undefined) {
    const t = await tcpTarget(d, vm, r.tcp);
    if (!t) fail('STACK_INVALID', `VM ${vm}: ready.tcp ${r.tcp} is neither a forwarded guest port nor reachable on a virtual network address`);
    return (await tcpOpen(t.host, t.port, timeoutSignal(2_000, signal))) ? undefined : `nothing accepts TCP on ${t.host}:${t.port} (guest port ${r.tcp}), or it closed at once`;
  }
  return execOnce(d, vm, r.exec!, signal);
}

/** One `exec:` try: the argv run by the guest agent (no shell unless the argv names one) exits 0 within EXEC_TRY_MS. */
async function execOnce(d: ReadinessDeps, vm: string, argv: readonly string[], signal: AbortSignal): Promise<string | undefined> {
  try {
    const res = await guestExecOf(d.vms, vm, argv, timeoutSignal(EXEC_TRY_MS, signal));
    if (res.exitCode === 0) return undefined;
    const out = (res.stderr || res.stdout).trim().slice(-200);
    return `${JSON.stringify(argv)} ${res.exitCode === null ? `was ended by signal ${res.signal ?? '?'}` : `exited ${res.exitCode}`}${out ? ` (${out})` : ''}`;
  } catch (err) {
    if (signal.aborted) return `${JSON.stringify(argv)} had not finished when the wait ended`;
    return `${JSON.stringify(argv)} could not run through the guest agent (${(err as Error).message})`;
  }
}

/** Waits until `vm` is ready by `r`; throws STACK_NOT_READY naming the VM and the condition after r.timeout seconds. */
export async function waitReady(d: ReadinessDeps, vm: string, r: Readiness, signal: AbortSignal): Promise<void> {
  const deadline = timeoutSignal(r.timeout * 1000);
  const both = anySignal([deadline, signal]);
  let why = 'not tried';
  while (!both.aborted) {
    const w = await checkOnce(d, vm, r, both);
    if (w === undefined) return;
    why = w;
    await sleep(r.interval * 1000, both).catch(() => undefined);
  }
  if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
  fail('STACK_NOT_READY', `VM ${vm} was not ready within ${r.timeout}s by ${describeReadiness(r)}: ${why}`);
}

export function describeReadiness(r: Readiness): string {
  if (r.agent) return 'agent (the guest agent answers)';
  if (r.tcp !== undefined) return `tcp ${r.tcp} (the port accepts connections)`;
  return `exec ${JSON.stringify(r.exec)} (the command exits 0 in the guest)`;
}
