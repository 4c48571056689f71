/**
 * QMP (QEMU Machine Protocol) client over a unix socket: greeting, capability
 * negotiation, id-matched replies with many commands in flight, typed events.
 * Knows nothing of VMs.
 */
import type net from 'node:net';
import { abortError, PolyvisorError, timeoutSignal } from '../shared/index.js';
import { encodeMessage, JsonLineDecoder } from './framing.js';
import { connectUnix } from './socket.js';
import type { CallOptions, CloseInfo, ConnectOptions, QemuVersion, QmpEvent } from './types.js';

interface Pending {
  command: string;
  resolve: (value: unknown) => void;
  reject: (err: Error) => void;
}

type EventListener = (e: QmpEvent) => void;
type CloseListener = (info: CloseInfo) => void;

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
const DEFAULT_COMMAND_TIMEOUT_MS = 10_000;

export class QmpClient {
  private readonly decoder = new JsonLineDecoder();
  private readonly pending = new Map<string, Pending>();
  private readonly eventListeners = new Set<EventListener>();
  private readonly closeListeners = new Set<CloseListener>();
  private seq = 0;
  private closeInfo: CloseInfo | undefined;
  private closing = false;
  private onGreeting: ((greeting: Record<string, unknown>) => void) | undefined;
  private greetingData: Record<string, unknown> | undefined;

  private constructor(
    private readonly sock: net.Socket,
    readonly socketPath: string,
    private readonly commandTimeoutMs: number,
  ) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('error', (err) => this.finish({ byClient: false, error: err }));
    sock.on('close', () => this.finish({ byClient: this.closing }));
  }

  /** Connects, reads the greeting and negotiates capabilities. */
  static async connect(socketPath: string, opts: ConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    const signal = timeoutSignal(timeoutMs, opts.signal);
    const sock = await connectUnix(socketPath, { signal, timeoutMs, what: 'the QMP monitor', failCode: 'QMP_DISCONNECTED' });
    const client = new QmpClient(sock, socketPath, opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
    try {
      await client.waitGreeting(signal, timeoutMs);
      await client.execute('qmp_capabilities', undefined, { signal });
      return client;
    } catch (err) {
      client.close();
      throw err;
    }
  }

  /** QEMU's version from the greeting. */
  get version(): QemuVersion {
    const qmp = (this.greetingData?.['QMP'] ?? {}) as { version?: { qemu?: Partial<QemuVersion>; package?: string } };
    const q = qmp.version?.qemu ?? {};
    const [major, minor, micro] = [q.major ?? 0, q.minor ?? 0, q.micro ?? 0];
    return { major, minor, micro, package: (qmp.version?.package ?? '').trim(), text: `${major}.${minor}.${micro}` };
  }

  get closed(): boolean {
    return this.closeInfo !== undefined;
  }

  /**
   * Runs one command and resolves with its `return` value. QEMU errors reject
   * with QMP_FAILED ("<command>: <desc>", class in details); no reply within
   * the timeout rejects with TIMEOUT; a closed connection with QMP_DISCONNECTED.
   */
  execute<T = unknown>(command: string, args?: Record<string, unknown>, opts: CallOptions = {}): Promise<T> {
    if (this.closeInfo) return Promise.reject(this.disconnected(command));
    const id = `pv-${++this.seq}`;
    const timeoutMs = opts.timeoutMs ?? this.commandTimeoutMs;
    return new Promise<T>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
      };
      const onAbort = (): void => {
        done();
        reject(abortError(opts.signal!, `QMP ${command}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(new PolyvisorError('TIMEOUT', `${command}: no QMP reply within ${timeoutMs} ms`));
      }, timeoutMs);
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        command,
        resolve: (v) => { done(); resolve(v as T); },
        reject: (e) => { done(); reject(e); },
      });
      const msg = args === undefined ? { execute: command, id } : { execute: command, arguments: args, id };
      this.sock.write(encodeMessage(msg));
    });
  }

  /** Subscribes to events or to the close notification; returns an unsubscribe function. */
  on(type: 'event', listener: EventListener): () => void;
  on(type: 'close', listener: CloseListener): () => void;
  on(type: 'event' | 'close', listener: EventListener | CloseListener): () => void {
    const set = (type === 'event' ? this.eventListeners : this.closeListeners) as Set<typeof listener>;
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Resolves with the next event named `eventName` (and matching `filter`).
   * Subscribe before sending the command that causes it.
   */
  once(eventName: string, opts: CallOptions & { filter?: (e: QmpEvent) => boolean } = {}): Promise<QmpEvent> {
    if (this.closeInfo) return Promise.reject(this.disconnected(`waiting for ${eventName}`));
    const signal = opts.timeoutMs === undefined ? opts.signal : timeoutSignal(opts.timeoutMs, opts.signal);
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        offEvent();
        offClose();
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        cleanup();
        reject(abortError(signal!, `waiting for QMP event ${eventName}`));
      };
      const offEvent = this.on('event', (e) => {
        if (e.event !== eventName || (opts.filter && !opts.filter(e))) return;
        cleanup();
        resolve(e);
      });
      const offClose = this.on('close', () => {
        cleanup();
        reject(this.disconnected(`waiting for ${eventName}`));
      });
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Closes the connection; pending commands reject with QMP_DISCONNECTED. */
  close(): void {
    this.closing = true;
    this.sock.destroy();
    this.finish({ byClient: true });
  }

  private waitGreeting(signal: AbortSignal, timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        this.onGreeting = undefined;
        signal.removeEventListener('abort', onAbort);
        offClose();
      };
      const onAbort = (): void => {
        cleanup();
        const err = abortError(signal, 'waiting for the QMP greeting');
        if (err.code === 'TIMEOUT') {
          reject(new PolyvisorError('TIMEOUT', `no QMP greeting from ${this.socketPath} within ${timeoutMs} ms (is another client connected to this monitor?)`));
        } else reject(err);
      };
      const offClose = this.on('close', () => {
        cleanup();
        reject(this.disconnected('waiting for the greeting'));
      });
      this.onGreeting = (g) => {
        cleanup();
        this.greetingData = g;
        resolve();
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private onData(chunk: Buffer): void {
    for (const d of this.decoder.push(chunk)) {
      if (d.ok && typeof d.value === 'object' && d.value !== null) this.dispatch(d.value as Record<string, unknown>);
      // Unparseable lines are dropped: QEMU never sends them, and a reply we cannot read times out.
    }
  }

  private dispatch(msg: Record<string, unknown>): void {
    if ('QMP' in msg) {
      this.onGreeting?.(msg);
      return;
    }
    if (typeof msg['event'] === 'string') {
      const ts = (msg['timestamp'] ?? { seconds: 0, microseconds: 0 }) as QmpEvent['timestamp'];
      const e: QmpEvent = { event: msg['event'], data: msg['data'] ?? {}, timestamp: ts };
      for (const l of [...this.eventListeners]) l(e);
      return;
    }
    const id = typeof msg['id'] === 'string' ? msg['id'] : undefined;
    const p = id === undefined ? undefined : this.pending.get(id);
    if (!p) return; // a reply to a command that already timed out or was aborted
    if ('error' in msg) {
      const err = (msg['error'] ?? {}) as { class?: string; desc?: string };
      p.reject(new PolyvisorError('QMP_FAILED', `${p.command}: ${err.desc ?? 'unknown error'}`, {
        details: { command: p.command, class: err.class ?? 'GenericError', desc: err.desc ?? '' },
      }));
    } else {
      p.resolve(msg['return']);
    }
  }

  private finish(info: CloseInfo): void {
    if (this.closeInfo) return;
    this.closeInfo = info;
    for (const [, p] of [...this.pending]) p.reject(this.disconnected(p.command));
    this.pending.clear();
    for (const l of [...this.closeListeners]) l(info);
    this.eventListeners.clear();
    this.closeListeners.clear();
  }

  private disconnected(what: string): PolyvisorError {
    const why = this.closeInfo?.byClient ? 'closed by us' : this.closeInfo?.error ? this.closeInfo.error.message : 'closed by QEMU';
    return new PolyvisorError('QMP_DISCONNECTED', `${what}: QMP connection to ${this.socketPath} is closed (${why})`, {
      ...(this.closeInfo?.error ? { cause: this.closeInfo.error } : {}),
    });
  }
}
