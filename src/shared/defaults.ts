import os from 'node:os';
import path from 'node:path';

/** Default state directory: /var/lib/polyvisor for root, else ~/.local/state/polyvisor. */
export function defaultStateDir(): string {
  return process.getuid?.() === 0 ? '/var/lib/polyvisor' : path.join(os.homedir(), '.local', 'state', 'polyvisor');
}

/** The daemon's unix socket inside a state directory. */
export function socketIn(stateDir: string): string {
  return path.join(stateDir, 'polyvisord.sock');
}

/** Default TCP listen address (Proxmox VE's port, on loopback only). */
export const DEFAULT_LISTEN = '127.0.0.1:8006';
