/**
 * Control frames of the serial console WebSocket. Binary frames are raw
 * terminal bytes; a text frame whose first character is "{" is a JSON control
 * frame (other text frames are terminal data, for clients that send text).
 * The one control so far: `{"type":"resize","cols":N,"rows":M}`.
 */

export const MAX_TERMINAL_SIZE = 10_000;

export type ConsoleControl = { type: 'resize'; cols: number; rows: number };

export type ControlResult = { ok: true; control: ConsoleControl } | { ok: false; message: string };

/** True when a frame is a control frame rather than terminal data. */
export const isControlFrame = (isBinary: boolean, data: Buffer): boolean => !isBinary && data[0] === 0x7b; // "{"

const dim = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= MAX_TERMINAL_SIZE;

export function parseControl(data: Buffer): ControlResult {
  if (data.length > 1024) return { ok: false, message: 'control frame over 1 KiB' };
  let doc: unknown;
  try {
    doc = JSON.parse(data.toString('utf8'));
  } catch {
    return { ok: false, message: 'control frame is not valid JSON (send terminal data as binary frames)' };
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return { ok: false, message: 'control frame must be a JSON object' };
  const o = doc as Record<string, unknown>;
  if (o['type'] !== 'resize') return { ok: false, message: `unknown control type ${JSON.stringify(o['type'])}; known: "resize"` };
  const extra = Object.keys(o).filter((k) => !['type', 'cols', 'rows'].includes(k));
  if (extra.length) return { ok: false, message: `resize: unknown field ${extra[0]}` };
  if (!dim(o['cols'])) return { ok: false, message: `resize: cols must be an integer from 1 to ${MAX_TERMINAL_SIZE}` };
  if (!dim(o['rows'])) return { ok: false, message: `resize: rows must be an integer from 1 to ${MAX_TERMINAL_SIZE}` };
  return { ok: true, control: { type: 'resize', cols: o['cols'], rows: o['rows'] } };
}
