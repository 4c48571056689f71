/** A command run in a running guest by its agent (QEMU: guest-exec), as an argv: never through a shell unless the argv names one. */

export interface GuestExecResult {
  /** The command's exit code; null when it was ended by a signal. */
  exitCode: number | null;
  signal: number | null;
  /** Its output, UTF-8, cut to the agent's limit. */
  stdout: string;
  stderr: string;
}

export interface GuestExec {
  guestExec(argv: readonly string[], signal: AbortSignal): Promise<GuestExecResult>;
}

export function canGuestExec(x: unknown): x is GuestExec {
  return typeof (x as Partial<GuestExec>)?.guestExec === 'function';
}
