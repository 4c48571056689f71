/**
 * What a target daemon answers to `prepare` is untrusted input: a target of
 * an operator's choosing, or anyone in the middle of a plain-HTTP link, could
 * answer anything. QEMU runs an `exec:` migration URI through a shell, and
 * an NBD address decides where disk data goes. So the source never uses the
 * target's addresses: it builds `tcp:HOST:PORT` and the NBD addresses itself
 * from the host of the target URL it was given and integer ports, and every
 * field of the reply is checked here before anything reaches QEMU.
 */
import { isValidName, PolyvisorError } from '../shared/index.js';
import type { IncomingReady, MigrationTargetRef, NbdMirror } from './peer.js';

function bad(what: string, target: MigrationTargetRef): never {
  throw new PolyvisorError('MIGRATION_FAILED', `the target ${target.url} answered the move with ${what}; nothing was sent`, { details: { side: 'target' } });
}

const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65_535;
const HOST_NAME = /^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/;

/** The host part of the target's URL, as QEMU's tcp: and nbd addresses want it (IPv6 without brackets). */
export function targetHost(target: MigrationTargetRef): string {
  return new URL(target.url).hostname.replace(/^\[(.*)\]$/, '$1');
}

/** The port of the `tcp:ADDR:PORT` the target announced (its address is not used: the source connects to the target's URL host). */
function streamPort(uri: unknown): number | undefined {
  if (typeof uri !== 'string') return undefined;
  const m = /^tcp:[A-Za-z0-9.:[\]-]{1,255}:(\d{1,5})$/.exec(uri);
  const port = Number(m?.[1]);
  return m && isPort(port) ? port : undefined;
}

/**
 * Checks a `prepare` answer and returns it rebuilt from checked parts only:
 * the stream URI and every NBD address on the host of the target's URL.
 */
export function checkReady(reply: unknown, target: MigrationTargetRef, o: { migrationId: string; live: boolean; exports: readonly string[] }): IncomingReady {
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) bad('something that is not an object', target);
  const r = reply as Record<string, unknown>;
  const host = targetHost(target);
  if (r['migrationId'] !== o.migrationId) bad('another migration id', target);
  if (typeof r['host'] !== 'string' || !HOST_NAME.test(r['host'])) bad('an invalid host name', target);
  const out: IncomingReady = { migrationId: o.migrationId, host: r['host'], nbd: [] };
  if (o.live) {
    const port = streamPort(r['uri']);
    if (port === undefined) bad(`a stream address that is not tcp:ADDRESS:PORT (${JSON.stringify(String(r['uri']).slice(0, 80))})`, target);
    out.uri = `tcp:${host.includes(':') ? `[${host}]` : host}:${port}`;
    if (r['pid'] !== undefined && !(typeof r['pid'] === 'number' && Number.isInteger(r['pid']) && r['pid'] > 0)) bad('an invalid pid', target);
    if (r['pid'] !== undefined) out.pid = r['pid'] as number;
  }
  if (!Array.isArray(r['nbd'])) bad('no NBD export list', target);
  const seen = new Set<string>();
  for (const x of r['nbd'] as unknown[]) {
    const n = (typeof x === 'object' && x !== null ? x : {}) as Record<string, unknown>;
    const name = n['exportName'];
    if (typeof name !== 'string' || !o.exports.includes(name) || seen.has(name)) bad(`an NBD export the move did not ask for (${JSON.stringify(String(name).slice(0, 40))})`, target);
    if (n['disk'] !== name || !isValidName(name)) bad('an NBD export whose disk name does not match', target);
    if (!isPort(n['port'])) bad('an NBD export with an invalid port', target);
    seen.add(name);
    out.nbd.push({ disk: name, host, port: n['port'], exportName: name } satisfies NbdMirror);
  }
  if (seen.size !== o.exports.length) bad(`NBD exports for ${[...seen].join(', ') || 'nothing'} where the move needs ${o.exports.join(', ') || 'none'}`, target);
  return out;
}
