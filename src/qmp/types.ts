/** Wire types shared by the QMP and guest-agent clients. */

export interface QmpTimestamp {
  seconds: number;
  microseconds: number;
}

/** An asynchronous QMP event, e.g. STOP, RESUME, SHUTDOWN. */
export interface QmpEvent {
  event: string;
  data: unknown;
  timestamp: QmpTimestamp;
}

/** QEMU's version as announced in the QMP greeting. */
export interface QemuVersion {
  major: number;
  minor: number;
  micro: number;
  /** Distribution package string, e.g. "Debian 1:7.2+dfsg-7+deb12u18". */
  package: string;
  /** "7.2.22". */
  text: string;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Reject with TIMEOUT when no reply came within this many ms. */
  timeoutMs?: number;
}

export interface ConnectOptions {
  signal?: AbortSignal;
  /** Connect + greeting + capabilities negotiation must finish within this (default 5000 ms). */
  timeoutMs?: number;
  /** Default timeout of execute() calls on this connection (default 10000 ms). */
  commandTimeoutMs?: number;
}

/** Why a connection closed: by us (close()) or by the peer / an error. */
export interface CloseInfo {
  byClient: boolean;
  error?: Error;
}
