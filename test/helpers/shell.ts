/** Runs a command in the test guest's serial shell and returns what it printed between two markers. */
import type { PolyvisorClient } from '../../src/client/index.js';
import { limit } from './limits.js';

let seq = 0;

export async function guestShell(client: PolyvisorClient, vm: string, command: string, timeoutMs = limit('shell')): Promise<string> {
  const tag = `pv${Date.now().toString(36)}${++seq}`;
  const ws = client.openConsole(vm);
  let out = '';
  ws.on('message', (b: Buffer) => (out += b.toString()));
  await new Promise((res, rej) => { ws.once('open', res); ws.once('error', rej); });
  // The markers are built by the shell (${x}), so the echoed command line never matches them.
  ws.send(`x=${tag}; echo "BEGIN-$x"; ${command}; echo "END-$x"\n`);
  const deadline = Date.now() + timeoutMs;
  const re = new RegExp(`BEGIN-${tag}\\r?\\n([\\s\\S]*?)END-${tag}`);
  try {
    for (;;) {
      const m = re.exec(out);
      if (m) return m[1]!.replace(/\r/g, '');
      if (Date.now() > deadline) throw new Error(`${vm}: no answer to ${JSON.stringify(command)} within ${timeoutMs} ms; console:\n${out.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    ws.close();
  }
}
