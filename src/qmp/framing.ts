/**
 * Newline-delimited JSON framing for QMP and the guest agent. QEMU ends every
 * message with "\r\n"; a chunk from the socket may hold part of a message or
 * several. Lines are split on bytes, so a UTF-8 character cut between two
 * chunks is decoded whole.
 */

/** Longest line we buffer before giving up on the peer (QEMU replies are far smaller). */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

export type Decoded = { ok: true; value: unknown } | { ok: false; line: string; error: Error };

export class JsonLineDecoder {
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  /** Feeds one chunk; returns every complete line, parsed (or why it did not parse). */
  push(chunk: Buffer): Decoded[] {
    const out: Decoded[] = [];
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl !== -1; nl = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, nl);
      const line = this.pendingBytes > 0 ? Buffer.concat([...this.pending, piece]) : piece;
      this.pending = [];
      this.pendingBytes = 0;
      start = nl + 1;
      const decoded = decodeLine(line);
      if (decoded) out.push(decoded);
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      this.pendingBytes += rest.length;
      if (this.pendingBytes > MAX_LINE_BYTES) {
        this.pending = [];
        this.pendingBytes = 0;
        out.push({ ok: false, line: '', error: new Error(`line longer than ${MAX_LINE_BYTES} bytes`) });
      } else {
        this.pending.push(Buffer.from(rest));
      }
    }
    return out;
  }
}

function decodeLine(bytes: Buffer): Decoded | undefined {
  // Drop \r and the 0xff sentinel the guest agent may send before a delimited reply.
  const text = bytes.toString('utf8').replace(/[\r\uFFFD]/g, '').trim();
  if (text.length === 0) return undefined;
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, line: text.slice(0, 200), error: err as Error };
  }
}

/** One message as QEMU expects it on the wire. */
export function encodeMessage(msg: unknown): string {
  return `${JSON.stringify(msg)}\n`;
}
