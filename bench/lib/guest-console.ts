/**
 * The test guest's serial shell (ttyS0, `guest# `) reached two ways: through
 * Polyvisor's console WebSocket or through a unix socket chardev (libvirt's
 * `<serial type='unix'>`). `shellRun` types one command and returns what it
 * printed between two markers, as test/helpers/shell.ts does.
 */
import net from 'node:net';
import type { PolyvisorClient } from '../../src/client/index.js';
import { sleep } from './proc.js';

export interface GuestConsole {
  send(text: string): void;
  output(): string;
  close(): void;
}

export async function polyvisorConsole(client: PolyvisorClient, vm: string): Promise<GuestConsole> {
  const ws = client.openConsole(vm);
  let out = '';
  ws.on('message', (b: Buffer) => (out += b.toString()));
  await new Promise((res, rej) => {
    ws.once('open', res);
    ws.once('error', rej);
  });
  return { send: (t) => ws.send(t), output: () => out, close: () => ws.close() };
}

export async function unixConsole(socketPath: string): Promise<GuestConsole> {
  const sock = net.connect(socketPath);
  let out = '';
  sock.on('data', (b: Buffer) => (out += b.toString()));
  await new Promise((res, rej) => {
    sock.once('connect', res);
    sock.once('error', rej);
  });
  sock.on('error', () => undefined);
  return { send: (t) => void sock.write(t), output: () => out, close: () => sock.destroy() };
}

let seq = 0;

/** Runs `command` in the shell behind `open()` (a fresh connection, closed afterwards); returns its output. */
export async function shellRun(open: () => Promise<GuestConsole>, command: string, timeoutMs = 30_000): Promise<string> {
  const tag = `pv${Date.now().toString(36)}${++seq}`;
  const c = await open();
  // The markers are built by the shell (${x}), so the echoed command line never matches them.
  c.send(`x=${tag}; echo "BEGIN-$x"; ${command}; echo "END-$x"\n`);
  const re = new RegExp(`BEGIN-${tag}\\r?\\n([\\s\\S]*?)END-${tag}`);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const m = re.exec(c.output());
      if (m) return m[1]!.replace(/\r/g, '');
      if (Date.now() > deadline) throw new Error(`no answer to ${JSON.stringify(command.slice(0, 80))} within ${timeoutMs} ms; console: ${JSON.stringify(c.output().slice(-300))}`);
      await sleep(50);
    }
  } finally {
    c.close();
  }
}
