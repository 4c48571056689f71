/**
 * The bandwidth of the link a migration stream crosses, measured the plain
 * way: one TCP connection from `fromHost` to a listener on `toHost`, `mib` MiB
 * written in 4 MiB chunks, timed from connect to the receiver's last byte.
 */
import net from 'node:net';
import { summarize } from './stats.js';

function once(fromHost: string, toHost: string, mib: number): Promise<number> {
  const chunk = Buffer.alloc(4 * 1024 * 1024, 0xa5);
  const total = mib * 1024 * 1024;
  return new Promise((resolve, reject) => {
    let got = 0;
    let t0 = 0;
    const server = net.createServer((sock) => {
      sock.on('data', (d: Buffer) => {
        got += d.length;
        if (got >= total) {
          const ms = performance.now() - t0;
          sock.destroy();
          server.close();
          resolve(mib / (ms / 1000));
        }
      });
      sock.on('error', reject);
    });
    server.on('error', reject);
    server.listen(0, toHost, () => {
      const port = (server.address() as net.AddressInfo).port;
      t0 = performance.now();
      const client = net.connect({ port, host: toHost, localAddress: fromHost }, () => {
        let sent = 0;
        const pump = (): void => {
          while (sent < total) {
            sent += chunk.length;
            if (!client.write(chunk)) { client.once('drain', pump); return; }
          }
          client.end();
        };
        pump();
      });
      client.on('error', reject);
    });
  });
}

/** Median MiB/s over `rounds` transfers of `mib` MiB. */
export async function linkMiBps(fromHost: string, toHost: string, mib = 1024, rounds = 3): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < rounds; i++) xs.push(await once(fromHost, toHost, mib));
  return summarize(xs).median;
}
