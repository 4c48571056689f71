/**
 * Human log lines for a terminal: `14:06:34.422 INFO  lifecycle: vm created vm=web`.
 * Reads the JSON lines pino writes (so pino's redaction has already run) and keeps only what a
 * person reads: time, level, component, message and the few fields that say what happened.
 * fastify's request pair ("incoming request" / "request completed") becomes one line.
 */
import { REDACT_KEYS } from '../shared/index.js';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLORS: Record<string, string> = { TRACE: '90', DEBUG: '90', INFO: '36', WARN: '33', ERROR: '31', FATAL: '31;1' };
/** Keys shown by the line's layout or too noisy for a terminal (all stay in the JSON format). */
const HIDDEN = new Set(['level', 'time', 'msg', 'component', 'requestId', 'req', 'res', 'responseTime', 'hostname', 'v']);
const MAX_VALUE = 80;

export interface TextLogOptions {
  /** ANSI colour for the level (a terminal without NO_COLOR). */
  color?: boolean;
}

/** True for a key whose value must never be written (REDACT_KEYS, any case, as part of the name). */
export function isSecretKey(key: string): boolean {
  const k = key.toLowerCase();
  return REDACT_KEYS.some((r) => k.includes(r));
}

function redactDeep(v: unknown, depth = 0): unknown {
  if (depth > 6 || v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, depth + 1));
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, isSecretKey(k) ? '[redacted]' : redactDeep(x, depth + 1)]));
}

function valueText(v: unknown): string {
  let s: string;
  if (typeof v === 'string') s = /^[\w./:@+-]+$/.test(v) ? v : JSON.stringify(v);
  else if (v !== null && typeof v === 'object') {
    const e = v as { message?: unknown; type?: unknown };
    s = typeof e.message === 'string' ? JSON.stringify(e.message) : JSON.stringify(redactDeep(v));
  } else s = String(v);
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s;
}

function clock(time: unknown): string {
  if (typeof time === 'string' && /T\d\d:\d\d:\d\d/.test(time)) return time.slice(11, 23);
  const d = typeof time === 'number' ? new Date(time) : new Date();
  return d.toISOString().slice(11, 23);
}

/** One pino record as one human line (no newline). Pure. */
export function formatRecord(rec: Record<string, unknown>, o: TextLogOptions = {}): string {
  const level = LEVELS[Number(rec['level'])] ?? String(rec['level'] ?? '?').toUpperCase();
  const lvl = level.padEnd(5);
  const comp = typeof rec['component'] === 'string' && rec['component'] !== 'daemon' ? `${rec['component']}: ` : '';
  const fields = Object.entries(rec)
    .filter(([k, v]) => !HIDDEN.has(k) && v !== undefined && v !== null)
    .map(([k, v]) => `${k}=${isSecretKey(k) ? '[redacted]' : valueText(v)}`);
  const msg = typeof rec['msg'] === 'string' ? rec['msg'] : '';
  const head = o.color ? `\x1b[${COLORS[level] ?? '0'}m${lvl}\x1b[0m` : lvl;
  return `${clock(rec['time'])} ${head} ${comp}${msg}${fields.length ? ` ${fields.join(' ')}` : ''}`.trimEnd();
}

/**
 * A pino destination that writes text lines to `out`. Keeps the method and URL of each request
 * (by requestId, bounded) so that "request completed" prints as `api: GET /v1/vms 200 (3 ms)`.
 */
export function textDestination(out: { write(s: string): unknown }, o: TextLogOptions = {}): { write(chunk: string): void } {
  const pending = new Map<string, string>();
  const line = (rec: Record<string, unknown>): string | null => {
    const id = typeof rec['requestId'] === 'string' ? rec['requestId'] : undefined;
    const req = rec['req'] as { method?: string; url?: string } | undefined;
    if (rec['msg'] === 'incoming request' && id && req) {
      if (pending.size >= 1000) pending.delete(pending.keys().next().value!);
      pending.set(id, `${req.method ?? '?'} ${req.url ?? '?'}`);
      return null;
    }
    if (rec['msg'] === 'request completed') {
      const what = (id && pending.get(id)) ?? 'request';
      if (id) pending.delete(id);
      const status = (rec['res'] as { statusCode?: number } | undefined)?.statusCode ?? '?';
      const ms = typeof rec['responseTime'] === 'number' ? ` (${Math.round(rec['responseTime'])} ms)` : '';
      const { req: _q, res: _s, responseTime: _t, msg: _m, ...rest } = rec;
      return formatRecord({ ...rest, component: 'api', msg: `${what} ${status}${ms}` }, o);
    }
    return formatRecord(rec, o);
  };
  return {
    write(chunk: string): void {
      for (const raw of chunk.split('\n')) {
        if (raw.trim() === '') continue;
        let rec: Record<string, unknown>;
        try {
          rec = JSON.parse(raw) as Record<string, unknown>;
        } catch {
          out.write(`${raw}\n`);
          continue;
        }
        const l = line(rec);
        if (l !== null) out.write(`${l}\n`);
      }
    },
  };
}
