/**
 * Offline move of a stopped or suspended VM: the target serves each file
 * (disk images, and the save file of a suspended VM), created at its final
 * size, writable over NBD with `qemu-nbd -f raw`; the source copies into it
 * with `qemu-img convert -n --target-is-zero -f raw -O raw` (zero areas are
 * skipped, so sparse images stay sparse). A byte-for-byte copy keeps
 * everything inside a qcow2 (internal snapshots, bitmaps) as it was.
 * qemu-nbd runs detached with a pidfile `<vmDir>/nbd-<name>.pid`, so a
 * restarted daemon finds and stops it (killStaleExports).
 *
 * With TLS (the default, audit defect 4) qemu-nbd and qemu-img each get a
 * tls-creds-x509 object over the move's per-migration certificates with
 * verify-peer: the server takes only a client of that CA, the client checks
 * the server's name; a plain-text client is refused by the server.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { anySignal, openAddressGate, pidAlive, pidArgv, PolyvisorError, runChecked, signalPid, sleep, WorkDeadline, type AddressGate, type Logger } from '../shared/index.js';
import { progressParser } from '../storage/index.js';
import type { MigrationTlsFiles } from '../drivers/index.js';

const PID_PREFIX = 'nbd-';
const TLS_ID = 'pv-nbd-tls';

/** QEMU's option syntax splits on commas: a value with one (or a newline) cannot be passed safely. */
function optValue(what: string, v: string): string {
  if (/[,\n]/.test(v)) throw new PolyvisorError('MIGRATION_FAILED', `${what} ${JSON.stringify(v)} contains a comma or a newline, which QEMU's option syntax cannot carry`);
  return v;
}

function tlsObject(tls: MigrationTlsFiles, endpoint: 'server' | 'client'): string {
  return `tls-creds-x509,id=${TLS_ID},endpoint=${endpoint},dir=${optValue('the TLS directory', tls.dir)},verify-peer=on`;
}

/** A TCP port free on `host` right now (the OS picks it). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface FileExport {
  name: string;
  host: string;
  port: number;
  pidFile: string;
  /** The address gate in front of qemu-nbd's unix socket `socket`, when the export accepts only some peers. */
  gate?: AddressGate;
  socket?: string;
}

/**
 * Target: serves `file` writable as export `name` on host:port until
 * closeExport. With `gate`, qemu-nbd listens on a unix socket in `vmDir` and
 * only the gate's allowed addresses reach it (audit defect 4: qemu-nbd has no
 * address filter of its own).
 */
export async function exportFile(
  vmDir: string, name: string, file: string, host: string, signal: AbortSignal, tls?: MigrationTlsFiles,
  gate?: { allow: readonly string[]; logger: Logger },
): Promise<FileExport> {
  const port = await freePort(host);
  const pidFile = path.join(vmDir, `${PID_PREFIX}${name}.pid`);
  const socket = path.join(vmDir, `${PID_PREFIX}${name}.sock`);
  await runChecked('qemu-nbd', [
    '--fork', '--persistent', '--shared=2', '--format=raw', `--pid-file=${pidFile}`,
    ...(gate ? [`--socket=${socket}`] : [`--bind=${host}`, `--port=${port}`]), `--export-name=${name}`,
    ...(tls ? ['--object', tlsObject(tls, 'server'), `--tls-creds=${TLS_ID}`] : []), file,
  ], { timeoutMs: 30_000, signal, missingCode: 'QEMU_IMG_MISSING', failCode: 'MIGRATION_FAILED' });
  if (!gate) return { name, host, port, pidFile };
  try {
    const g = await openAddressGate({ listen: { host, port }, allow: gate.allow, target: socket, logger: gate.logger, what: `NBD export ${name}` });
    return { name, host, port, pidFile, gate: g, socket };
  } catch (err) {
    await stopExport(pidFile);
    throw err;
  }
}

/** Target: closes the export's gate (if any) and stops its qemu-nbd. */
export async function closeExport(x: FileExport): Promise<void> {
  await x.gate?.destroy();
  await stopExport(x.pidFile);
  if (x.socket) await rm(x.socket, { force: true });
}

/** Stops the qemu-nbd whose pidfile is `pidFile` (only if that PID still runs qemu-nbd). */
export async function stopExport(pidFile: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(pid) && pid > 0 && (await pidArgv(pid))?.[0]?.includes('qemu-nbd')) {
    signalPid(pid, 'SIGTERM');
    for (let i = 0; i < 100 && pidAlive(pid); i++) await sleep(50);
    if (pidAlive(pid)) signalPid(pid, 'SIGKILL');
  }
  await rm(pidFile, { force: true });
}

/** Restart recovery: stops every qemu-nbd an unfinished offline move left in `vmDir`. */
export async function killStaleExports(vmDir: string): Promise<void> {
  for (const n of await readdir(vmDir).catch(() => [] as string[])) {
    if (n.startsWith(PID_PREFIX) && n.endsWith('.pid')) await stopExport(path.join(vmDir, n));
    if (n.startsWith(PID_PREFIX) && n.endsWith('.sock')) await rm(path.join(vmDir, n), { force: true });
  }
}

/** qemu-img reports every 1 %: a copy whose progress does not move for this long is given up (the target or the link is stuck). */
export const COPY_STALL_MS = 10 * 60_000;

/** Source: copies `file` byte for byte into the export; bounded by its progress, not by a constant. */
export async function copyFileToNbd(
  file: string, to: { host: string; port: number; exportName: string },
  o: { signal: AbortSignal; onProgress?: (fraction: number) => void; stallMs?: number; tls?: MigrationTlsFiles },
): Promise<void> {
  // Plain: an nbd:// URI. TLS: the target as options, so the nbd client gets the credentials and the server's name.
  const target = o.tls
    ? ['--object', tlsObject(o.tls, 'client'), '--target-image-opts', file, [
      'driver=raw', 'file.driver=nbd', 'file.server.type=inet', `file.server.host=${optValue('the NBD host', to.host)}`, `file.server.port=${to.port}`,
      `file.export=${optValue('the export name', to.exportName)}`, `file.tls-creds=${TLS_ID}`, `file.tls-hostname=${optValue('the TLS hostname', o.tls.hostname)}`,
    ].join(',')]
    : ['-O', 'raw', file, `nbd://${to.host}:${to.port}/${encodeURIComponent(to.exportName)}`];
  const watch = new WorkDeadline(`copying ${to.exportName} to the target`, { stallMs: o.stallMs ?? COPY_STALL_MS });
  watch.sample(1, '0 %');
  const p = progressParser((f) => {
    watch.sample(1 - f, `${(f * 100).toFixed(1)} %`);
    o.onProgress?.(f);
  });
  const stalled = new AbortController();
  const timer = setInterval(() => {
    if (watch.stalled()) stalled.abort(watch.timeout());
  }, 1_000);
  try {
    await runChecked('qemu-img', ['convert', '-p', '-n', '--target-is-zero', '-f', 'raw', ...target], {
      timeoutMs: 24 * 3_600_000, signal: anySignal([o.signal, stalled.signal]), missingCode: 'QEMU_IMG_MISSING', failCode: 'MIGRATION_FAILED',
      env: { ...process.env, LC_ALL: 'C' }, onStdout: (c) => p.push(c),
    });
  } finally {
    clearInterval(timer);
  }
  p.done();
}
