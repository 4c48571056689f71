/**
 * QEMU guest agent (qemu-ga) client over the host side of its virtio-serial
 * chardev. The agent has no greeting and may be absent, slow or restarted,
 * and stale replies may sit in the channel: every exchange starts with
 * `guest-sync` and a random id, and lines are discarded until that id comes
 * back. Calls are serialized (the agent answers one command at a time) and
 * every call has a short timeout.
 */
import type net from 'node:net';
import { randomInt } from 'node:crypto';
import { abortError, PolyvisorError, timeoutSignal } from '../shared/index.js';
import { encodeMessage, JsonLineDecoder } from './framing.js';
import { connectUnix } from './socket.js';
import type { CallOptions } from './types.js';

export interface AgentCallOptions extends CallOptions {
  /** The command sends no reply on success (guest-shutdown, guest-suspend-*): resolve once written. */
  noReply?: boolean;
}

const DEFAULT_TIMEOUT_MS = 3_000;

export class GuestAgentClient {
  private readonly decoder = new JsonLineDecoder();
  private waiter: ((msg: Record<string, unknown>) => void) | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private needSync = true;
  private closedError: PolyvisorError | undefined;
  private onClosed: (() => void) | undefined;

  private constructor(
    private readonly sock: net.Socket,
    readonly socketPath: string,
    private readonly timeoutMs: number,
  ) {
    sock.on('data', (chunk: Buffer) => {
      for (const d of this.decoder.push(chunk)) {
        if (d.ok && typeof d.value === 'object' && d.value !== null) this.waiter?.(d.value as Record<string, unknown>);
      }
    });
    const closed = (err?: Error): void => {
      this.closedError ??= new PolyvisorError('AGENT_UNAVAILABLE', `guest agent connection ${socketPath} is closed`, err ? { cause: err } : {});
      this.onClosed?.();
    };
    sock.on('error', closed);
    sock.on('close', () => closed());
  }

  /** Connects and syncs; rejects with AGENT_UNAVAILABLE when the agent does not answer in time. */
  static async connect(socketPath: string, opts: CallOptions = {}): Promise<GuestAgentClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const sock = await connectUnix(socketPath, { timeoutMs, what: 'the guest agent', failCode: 'AGENT_UNAVAILABLE', ...(opts.signal ? { signal: opts.signal } : {}) });
    const client = new GuestAgentClient(sock, socketPath, timeoutMs);
    try {
      await client.sync(opts);
      return client;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  /** Flushes stale replies: sends guest-sync with a random id and waits for that id. */
  sync(opts: CallOptions = {}): Promise<void> {
    return this.serialize(async () => {
      await this.doSync(opts);
    });
  }

  /** Runs one agent command (after a sync if the channel may hold stale data). */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, opts: AgentCallOptions = {}): Promise<T> {
    return this.serialize(async () => {
      if (this.needSync) await this.doSync(opts);
      const msg = args === undefined ? { execute: command } : { execute: command, arguments: args };
      if (opts.noReply) {
        await this.write(msg);
        return undefined as T;
      }
      const reply = await this.exchange(msg, command, opts, () => true);
      if ('error' in reply) {
        const err = (reply['error'] ?? {}) as { class?: string; desc?: string };
        throw new PolyvisorError('QMP_FAILED', `${command}: ${err.desc ?? 'unknown error'}`, {
          details: { command, class: err.class ?? 'GenericError', desc: err.desc ?? '', agent: true },
        });
      }
      return reply['return'] as T;
    });
  }

  close(): void {
    this.closedError ??= new PolyvisorError('AGENT_UNAVAILABLE', `guest agent connection ${this.socketPath} is closed`);
    this.sock.destroy();
    this.onClosed?.();
  }

  private async doSync(opts: CallOptions): Promise<void> {
    const id = randomInt(1, 2 ** 31 - 1);
    // 0xff is invalid JSON: it resets the agent's parser if an earlier client left half a message.
    this.sock.write(Buffer.from([0xff]));
    try {
      await this.exchange({ execute: 'guest-sync', arguments: { id } }, 'guest-sync', opts, (m) => m['return'] === id);
    } catch (err) {
      if (err instanceof PolyvisorError && err.code === 'TIMEOUT') {
        throw new PolyvisorError('AGENT_UNAVAILABLE', `the guest agent did not answer within ${opts.timeoutMs ?? this.timeoutMs} ms`, { cause: err });
      }
      throw err;
    }
    this.needSync = false;
  }

  /** Writes `msg` and resolves with the first message `accept` takes; others are dropped as stale. */
  private exchange(msg: unknown, what: string, opts: CallOptions, accept: (m: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    if (this.closedError) return Promise.reject(this.closedError);
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const signal = timeoutSignal(timeoutMs, opts.signal);
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        this.waiter = undefined;
        this.onClosed = undefined;
        signal.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        cleanup();
        this.needSync = true; // a late reply may still arrive
        const err = abortError(signal, `guest agent ${what}`);
        reject(err.code === 'TIMEOUT' ? new PolyvisorError('TIMEOUT', `guest agent: no reply to ${what} within ${timeoutMs} ms`) : err);
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.onClosed = () => {
        cleanup();
        reject(this.closedError);
      };
      this.waiter = (m) => {
        if (!accept(m)) return;
        cleanup();
        resolve(m);
      };
      this.sock.write(encodeMessage(msg));
    });
  }

  private write(msg: unknown): Promise<void> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.sock.write(encodeMessage(msg), (err) => (err ? reject(this.closedError ?? err) : resolve()));
    });
  }

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.queue.then(fn, fn);
    this.queue = next.catch(() => undefined);
    return next;
  }
}
