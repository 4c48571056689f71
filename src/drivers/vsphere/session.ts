/**
 * A connected vCenter/ESXi: the SOAP client logged in, and the parts the
 * driver's matrix promises, each built over the same client, property
 * collector and inventory.
 */
import { PolyvisorError } from '../../shared/index.js';
import type { EndpointConnection, EndpointSession } from '../endpoint.js';
import { eventsPart } from './events.js';
import { exporterPart } from './exporter.js';
import { Inventory, type VsphereInfo } from './inventory.js';
import { metricsPart } from './metrics.js';
import { powerPart } from './power.js';
import { Properties } from './property-collector.js';
import { SoapClient } from './soap-client.js';
import { snapshotsPart } from './snapshots.js';
import { clonePart, migrationPart, reconfigurePart } from './vm-ops.js';

export interface VsphereSession extends EndpointSession {
  info(signal: AbortSignal): Promise<VsphereInfo>;
  /** The SOAP client (the driver's tests and benchmark look at the wire through it). */
  readonly soap: SoapClient;
}

/** The endpoint URL's origin and SDK path: https://vc.example.com → /sdk. */
export function sdkUrl(url: string): { origin: URL; path: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new PolyvisorError('INVALID_ARGUMENT', `"${url}" is not a URL; a vSphere endpoint looks like https://vcenter.example.com/sdk`);
  }
  if (u.protocol !== 'https:') throw new PolyvisorError('INVALID_ARGUMENT', `a vSphere endpoint is reached over https (got ${u.protocol}); e.g. https://vcenter.example.com/sdk`);
  if (u.username || u.password) throw new PolyvisorError('INVALID_ARGUMENT', 'put the vSphere user and password in --user and --password-file, not in the URL');
  const path = u.pathname === '/' || u.pathname === '' ? '/sdk' : u.pathname.replace(/\/+$/, '');
  return { origin: new URL(u.origin), path };
}

export async function openSession(c: EndpointConnection, signal: AbortSignal): Promise<VsphereSession> {
  const { origin, path } = sdkUrl(c.url);
  if (!c.user || !c.password) throw new PolyvisorError('ENDPOINT_AUTH_FAILED', `endpoint ${c.name}: vSphere needs a user and a password (--user U --password-file F)`);
  const soap = new SoapClient(path, { origin, ca: c.ca, insecure: c.insecure, label: c.name });
  try {
    await soap.retrieveServiceContent(signal);
    await soap.login(c.user, c.password, signal);
  } catch (err) {
    soap.transport.close();
    throw err;
  }
  const props = new Properties(soap);
  const inv = new Inventory(soap, props);
  const events = eventsPart(soap, props);
  return {
    soap,
    info: (signal) => inv.info(signal),
    list: (signal, opts) => inv.list(signal, opts?.brief === true),
    get: (vm, signal) => inv.get(vm, signal),
    close: async () => {
      await events.stopAll();
      await soap.logout(AbortSignal.timeout(10_000));
    },
    power: powerPart(soap, props, inv),
    snapshots: snapshotsPart(soap, props, inv),
    migration: migrationPart(soap, props, inv),
    reconfigure: reconfigurePart(soap, props, inv),
    clone: clonePart(soap, props, inv),
    exporter: exporterPart(soap, props, inv),
    events: events.part,
    metrics: metricsPart(props),
  };
}
