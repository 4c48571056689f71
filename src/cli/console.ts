/** `polyvisor console NAME`: the serial console in this terminal; Ctrl-] detaches. */
import type { PolyvisorClient } from '../client/index.js';
import { PolyvisorError } from '../shared/index.js';

export const DETACH_BYTE = 0x1d; // Ctrl-]

export function attachConsole(client: PolyvisorClient, name: string, io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = client.openConsole(name);
    const tty = io.stdin.isTTY === true;
    let detached = false;
    const sendSize = (): void => {
      const { columns, rows } = io.stdout;
      if (io.stdout.isTTY && columns > 0 && rows > 0 && ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'resize', cols: columns, rows }));
    };
    const restore = (): void => {
      io.stdout.removeListener('resize', sendSize);
      if (tty) io.stdin.setRawMode(false);
      io.stdin.pause();
      io.stdin.removeListener('data', onInput);
    };
    const onInput = (chunk: Buffer): void => {
      const i = chunk.indexOf(DETACH_BYTE);
      if (i >= 0) {
        if (i > 0) ws.send(chunk.subarray(0, i));
        detached = true;
        ws.close(1000, 'detached');
        return;
      }
      ws.send(chunk);
    };
    ws.on('open', () => {
      io.stderr.write(`Connected to ${name} (detach with Ctrl-])\r\n`);
      if (tty) io.stdin.setRawMode(true);
      sendSize();
      if (io.stdout.isTTY) io.stdout.on('resize', sendSize);
      io.stdin.on('data', onInput);
      io.stdin.resume();
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) io.stdout.write(data); // text frames are control replies (docs/api.md, "Consoles")
    });
    ws.on('close', (code, reason) => {
      restore();
      if (detached || code === 1000) {
        io.stderr.write('\r\nDetached.\r\n');
        return resolve();
      }
      const why = reason.toString() || `closed (${code})`;
      reject(new PolyvisorError(code === 4404 ? 'VM_NOT_FOUND' : code === 4409 ? 'INVALID_TRANSITION' : 'QMP_DISCONNECTED', `console: ${why}`));
    });
    ws.on('error', (err: NodeJS.ErrnoException) => {
      restore();
      reject(['ENOENT', 'ECONNREFUSED'].includes(err.code ?? '')
        ? new PolyvisorError('DAEMON_UNREACHABLE', `cannot reach polyvisord (${err.code})`)
        : err);
    });
  });
}
