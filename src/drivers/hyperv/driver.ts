/**
 * The Hyper-V driver: WMI's root\virtualization\v2 namespace over
 * WS-Management (WinRM on HTTPS, port 5986, basic authentication over TLS).
 * An endpoint is one host plus the peers named in its URL (live migration
 * targets); connect() checks the URL and the credentials and proves them on
 * every host by reading its Msvm_ComputerSystem. Tested against a simulator
 * (test/fakes/hyperv) only: no Hyper-V host runs here.
 */
import { fail, PolyvisorError } from '../../shared/index.js';
import type { EndpointConnection, EndpointDriver, EndpointSession } from '../endpoint.js';
import { HYPERV_CAPABILITIES, HYPERV_DRIVER_NAME } from './capabilities.js';
import { str } from './cim.js';
import { HOST_WQL, HvContext, HvHost } from './context.js';
import { createSession } from './session.js';
import { Transport } from './transport.js';
import { parseHypervUrl } from './url.js';
import { WsmanClient } from './wsman.js';

export interface HypervDriverOptions {
  /** One request without an answer for this long: ENDPOINT_LOST (default 60 s, WinRM's own OperationTimeout). */
  requestTimeoutMs?: number;
  /** A job followed longer than this: TIMEOUT (default 1 h: exports and migrations of large disks take long). */
  jobTimeoutMs?: number;
  /** First poll of a job; the interval grows to 1 s (default 100 ms). */
  pollMs?: number;
}

export function createHypervDriver(o: HypervDriverOptions = {}): EndpointDriver {
  return {
    name: HYPERV_DRIVER_NAME,
    title: 'Microsoft Hyper-V over WMI v2 (WS-Management, WinRM HTTPS, basic authentication), jobs followed by Msvm_ConcreteJob; also VHDX and Hyper-V export files',
    testedAgainst: 'test/fakes/hyperv, a fake WinRM host built from the published Msvm_* schema',
    urlExample: 'https://hv1.example.com:5986/wsman?peer=hv2.example.com',
    capabilities: HYPERV_CAPABILITIES,
    async connect(c: EndpointConnection, signal: AbortSignal): Promise<EndpointSession> {
      const u = parseHypervUrl(c.url);
      if (c.token !== undefined) fail('INVALID_ARGUMENT', `Hyper-V endpoint ${c.name} logs in with --user and --password-file (WinRM basic authentication over HTTPS), not a token`);
      if (!c.user || c.password === undefined) fail('INVALID_ARGUMENT', `Hyper-V endpoint ${c.name} needs --user (DOMAIN\\user or a local administrator) and --password-file`);
      const transports: Transport[] = [];
      const closeAll = (): void => transports.forEach((t) => t.close());
      try {
        const hosts: HvHost[] = [];
        for (const url of [u.wsman, ...u.peers]) {
          const t = new Transport({ label: `Hyper-V endpoint ${c.name} (${url.host})`, url, user: c.user, password: c.password, ca: c.ca, insecure: c.insecure, requestTimeoutMs: o.requestTimeoutMs ?? 60_000 });
          transports.push(t);
          const client = new WsmanClient(t);
          const [me] = await client.query(HOST_WQL, signal);
          const name = me ? (str(me, 'ElementName') ?? str(me, 'Name')) : null;
          if (!name) throw new PolyvisorError('ENDPOINT_PROTOCOL', `${t.o.label} has no hosting computer system in root\\virtualization\\v2: is the Hyper-V role installed?`);
          if (hosts.some((h) => h.name.toLowerCase() === name.toLowerCase())) fail('INVALID_ARGUMENT', `host ${name} is named twice in the URL of Hyper-V endpoint ${c.name}`);
          hosts.push(new HvHost(client, name));
        }
        const x = new HvContext(c.name, hosts, { jobTimeoutMs: o.jobTimeoutMs ?? 3600_000, pollMs: o.pollMs ?? 100 }, { remote: u.exportDir, local: u.exportLocal });
        return createSession(x, closeAll);
      } catch (err) {
        closeAll();
        throw err;
      }
    },
  };
}
