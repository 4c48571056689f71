/** The files a QEMU VM owns inside its runtime directory. */
import { Buffer } from 'node:buffer';
import path from 'node:path';
import { PolyvisorError } from '../../shared/index.js';
import type { RuntimeFiles } from '../driver.js';

/** sun_path is 108 bytes on Linux, including the terminating NUL. */
export const MAX_SOCKET_PATH_BYTES = 107;

export const FILE_NAMES: Readonly<RuntimeFiles> = {
  qmpSocket: 'qmp.sock',
  agentSocket: 'qga.sock',
  serialSocket: 'serial.sock',
  serialLog: 'serial.log',
  pidFile: 'qemu.pid',
  vncSocket: 'vnc.sock',
  nvram: 'nvram.fd',
  saveFile: 'state.save',
};

/** QEMU's own stdout and stderr (start-up errors, runtime warnings); the previous run's is kept as qemu.log.1. */
export const QEMU_LOG = 'qemu.log';

/** Sockets used only while a save or restore streams the migration state. */
export const MIGRATION_SOCKETS = { out: 'mig-out.sock', in: 'mig-in.sock' } as const;

export function runtimeFiles(dir: string): RuntimeFiles {
  const abs = path.resolve(dir); // QEMU runs with "/" as its working directory
  const files = Object.fromEntries(
    Object.entries(FILE_NAMES).map(([k, name]) => [k, path.join(abs, name)]),
  ) as unknown as RuntimeFiles;
  for (const p of [files.qmpSocket, files.agentSocket, files.serialSocket, files.vncSocket, migrationSocket(abs, 'out'), migrationSocket(abs, 'in')]) {
    checkSocketPath(p);
  }
  return files;
}

export function migrationSocket(dir: string, which: keyof typeof MIGRATION_SOCKETS): string {
  return path.join(path.resolve(dir), MIGRATION_SOCKETS[which]);
}

export function checkSocketPath(p: string): void {
  const bytes = Buffer.byteLength(p);
  if (bytes > MAX_SOCKET_PATH_BYTES) {
    throw new PolyvisorError('INVALID_PATH', `unix socket path ${p} is ${bytes} bytes; the limit is ${MAX_SOCKET_PATH_BYTES}`, {
      hint: 'Use a shorter state directory (config key stateDir, env POLYVISOR_STATE_DIR).',
    });
  }
}
