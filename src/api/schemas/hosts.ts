/** Answers of /v1/hosts (issue 19). */
import { z } from 'zod';
import { HOST_STATES, type HostView } from '../../spec/index.js';
import { describes } from './describes.js';

const resources = z.object({ cpus: z.number().int(), memoryBytes: z.number().int(), diskBytes: z.number().int() });
export const hostSchema = describes<HostView>()(z.object({
  name: z.string(),
  state: z.enum(HOST_STATES).describe('ready; cordoned (no new VMs, HA skips it); draining; down (its lease expired)'),
  capacity: resources,
  allocated: resources.describe('what the VMs that run (or are meant to run) there claim'),
  vms: z.number().int().describe('VMs owned by the host, in any state'),
  pool: z.string().describe('host pool (HA group); "" for none'),
  version: z.string(),
  since: z.string().describe('ISO 8601 time it joined (with its current lease, or last, when down)'),
  leaseAgeSeconds: z.number().int().nullable().describe('seconds since it joined with its current lease; null when down or on a single host'),
  self: z.boolean().describe('the host that answered'),
}).meta({ id: 'Host', description: 'a host of the cluster (or the one host of a single-host daemon)' }));
