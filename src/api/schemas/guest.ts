/** GET /v1/vms/{name}/guest: what the guest says about itself through its agent (spec/guest-views.ts). */
import { z } from 'zod';
import type { GuestInfoView } from '../../spec/index.js';
import { describes } from './describes.js';

const orNull = <T extends z.ZodType>(t: T, what: string) => t.nullable().describe(`${what}; null when the agent did not say`);
const bytes = (what: string) => z.number().int().nonnegative().nullable().describe(`${what}, bytes; null when the agent did not say`);

export const guestInfoSchema = describes<GuestInfoView>()(z.object({
  agent: z.object({
    responding: z.boolean().describe('the agent answered just now (the heartbeat)'),
    version: orNull(z.string(), 'the agent\'s version'),
    latencyMs: orNull(z.number().int().nonnegative(), 'round trip of guest-info, ms'),
    error: z.string().nullable().describe('why it did not answer; null when it did'),
  }),
  os: z.object({
    prettyName: z.string().nullable(),
    id: z.string().nullable(),
    version: z.string().nullable(),
    kernelRelease: z.string().nullable(),
    machine: z.string().nullable(),
  }).nullable().describe('from os-release and uname inside the guest'),
  hostname: orNull(z.string(), 'the guest\'s hostname'),
  interfaces: z.array(z.object({
    name: z.string(),
    mac: z.string().nullable(),
    addresses: z.array(z.object({ family: z.enum(['ipv4', 'ipv6']), address: z.string(), prefix: z.number().int() })),
  })).describe('as the guest names them, with their addresses'),
  filesystems: z.array(z.object({
    mountpoint: z.string(),
    type: z.string(),
    devices: z.array(z.string()).describe('the guest\'s devices behind it, like vda1'),
    totalBytes: bytes('size'),
    usedBytes: bytes('used'),
  })).describe('mounted filesystems, by mount point'),
  clockSkewMs: orNull(z.number().int(), 'guest clock minus host clock, ms'),
  missing: z.array(z.object({ part: z.string(), error: z.string() })).describe('parts the agent could not give (a command it lacks, a failure), with why'),
  readAt: z.string().describe('when this was read (ISO 8601)'),
}).meta({ id: 'GuestInfo' }));
