/**
 * The XCP-ng / XenServer driver: XAPI's JSON-RPC over HTTPS at the pool
 * master (/jsonrpc), a session by login_with_password renewed once when
 * XAPI says SESSION_INVALID, Async.* calls followed through their tasks,
 * event.from for state changes, disks exported through /export_raw_vdi.
 * connect() checks the URL and credentials and proves them with a login
 * and pool.get_all_records. Tested against a simulator (test/fakes/xapi),
 * not against a real pool.
 */
import type { EndpointConnection, EndpointDriver, EndpointSession } from '../endpoint.js';
import { XCPNG_CAPABILITIES, XCPNG_DRIVER_NAME } from './capabilities.js';
import { XapiClient } from './client.js';
import { createSession } from './session.js';

export interface XcpngDriverOptions {
  /** One request without an answer for this long: ENDPOINT_LOST (default 30 s). */
  requestTimeoutMs?: number;
  /** A task followed longer than this: TIMEOUT, and the task is cancelled (default 1 h). */
  taskTimeoutMs?: number;
  /** First poll of a task; the interval grows to 1 s (default 100 ms). */
  pollMs?: number;
  /** event.from's long-poll timeout in seconds (default 30). */
  eventPollSeconds?: number;
}

export function createXcpngDriver(o: XcpngDriverOptions = {}): EndpointDriver {
  return {
    name: XCPNG_DRIVER_NAME,
    title: 'XCP-ng / XenServer pools over XAPI (JSON-RPC on HTTPS, at the pool master); tested against a simulator',
    urlExample: 'https://xcp-master.example.com',
    capabilities: XCPNG_CAPABILITIES,
    testedAgainst: 'a fake XAPI pool built from the XAPI datamodel (test/fakes/xapi), no real XCP-ng host',
    async connect(c: EndpointConnection, signal: AbortSignal): Promise<EndpointSession> {
      const client = new XapiClient(c, o.requestTimeoutMs ?? 30_000);
      try {
        await client.sessionRef(signal);
        await client.call('pool.get_all_records', [], signal, 'reading the pool');
      } catch (err) {
        await client.close();
        throw err;
      }
      return createSession(client, { taskTimeoutMs: o.taskTimeoutMs ?? 3600_000, pollMs: o.pollMs ?? 100, eventPollSeconds: o.eventPollSeconds ?? 30 });
    },
  };
}
