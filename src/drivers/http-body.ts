/**
 * The body of an endpoint's HTTP answer, for the drivers that speak HTTP
 * themselves (Proxmox, Hyper-V, XCP-ng): collected up to `maxBytes` (past it
 * the request is destroyed, which fails it), and an answer cut off before its
 * end fails with ECONNRESET like a dropped connection.
 */
import type { ClientRequest, IncomingMessage } from 'node:http';

const cutOff = (): Error => Object.assign(new Error('the answer was cut off'), { code: 'ECONNRESET' });

export function collectBody(req: ClientRequest, res: IncomingMessage, maxBytes: number, fail: (err: Error) => void, done: (text: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  res.on('data', (c: Buffer) => {
    size += c.length;
    if (size > maxBytes) req.destroy(new Error(`answer larger than ${maxBytes} bytes`));
    else chunks.push(c);
  });
  res.on('error', fail);
  res.on('aborted', () => fail(cutOff()));
  res.on('end', () => {
    if (!res.complete) return fail(cutOff());
    done(Buffer.concat(chunks).toString('utf8'));
  });
}
