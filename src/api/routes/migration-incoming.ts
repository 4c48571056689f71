/**
 * The target side of host-to-host moves, called by the source daemon (thin
 * routes, DESIGN rule 1). Permission `vm:migrate-in` (admin and operator):
 * a token that may place VMs on this host.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { IncomingRequest, IncomingService } from '../../migration/index.js';
import { fail, validateName } from '../../shared/index.js';
import { specAsInput, validateSpec, type VmSpec } from '../../spec/index.js';
import { bodyOf, parseWith } from '../validate.js';
import { abortSchema, commitSchema, incomingReadySchema, incomingStatusSchema } from '../schemas/index.js';

interface IdParams { id: string }

const tags = ['migration'];
const id = z.string().regex(/^mig-[a-z0-9]{1,16}-[0-9a-f]{8}$/, 'a migration id like mig-xxxx-0123abcd');
const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
const pem = (kind: string) => z.string().max(16_384).regex(new RegExp(`^-----BEGIN ${kind}-----[\\s\\S]+-----END ${kind}-----\\s*$`), `a PEM ${kind}`);

const incomingBody = z.object({
  migrationId: id,
  mode: z.enum(['live', 'offline']),
  source: z.object({
    host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/),
    qemuVersion: z.string().regex(/^[0-9][0-9a-z.+~-]{0,40}$|^unknown$/),
    accel: z.enum(['kvm', 'tcg']),
    cpuFlags: z.array(z.string().regex(/^[a-z0-9_.-]{1,40}$/)).max(1024),
  }).strict(),
  vm: z.object({ id: uuid, name: z.string(), spec: z.record(z.string(), z.unknown()), state: z.enum(['running', 'paused', 'stopped', 'created', 'suspended']) }).strict(),
  disks: z.array(z.object({
    name: z.string(), format: z.enum(['qcow2', 'raw']), virtualSize: z.number().int().min(0).max(2 ** 53), fileBytes: z.number().int().min(0).max(2 ** 53), copy: z.boolean(),
  }).strict()).max(16),
  saveFileBytes: z.number().int().min(0).max(2 ** 53).optional(),
  // What vm resize hot-added on the source (values reach QEMU's argv: ids and types are plain names, never option syntax).
  hotplugged: z.object({
    bootCpus: z.number().int().min(1).max(1024),
    bootMemoryBytes: z.number().int().min(1).max(2 ** 53),
    cpus: z.array(z.object({
      id: z.string().regex(/^pv-cpu-[0-9-]{1,40}$/), type: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
      props: z.record(z.string().regex(/^[a-z-]{1,20}$/), z.number().int().min(0).max(4096)),
    }).strict()).max(1024),
    dimms: z.array(z.object({
      id: z.string().regex(/^pv-dimm[0-9]{1,3}$/), memdev: z.string().regex(/^pv-mem[0-9]{1,3}$/), bytes: z.number().int().min(1).max(2 ** 53),
      addr: z.number().int().min(0).max(2 ** 53), slot: z.number().int().min(0).max(255), node: z.number().int().min(0).max(63),
    }).strict()).max(256),
  }).strict().optional(),
  tuning: z.object({
    downtimeLimitMs: z.number().min(0).max(100_000), maxBandwidthBytesPerS: z.number().min(0).optional(), autoConverge: z.boolean(), postcopy: z.boolean(),
    multifdChannels: z.number().int().min(0).max(16), xbzrleCacheBytes: z.number().int().min(0),
  }).strict().optional(),
  features: z.array(z.enum(['postcopy-ram', 'multifd', 'xbzrle', 'pause-before-switchover'])).max(8),
  tls: z.object({ hostname: z.string().regex(/^[a-z0-9.-]{1,63}$/), caCert: pem('CERTIFICATE'), serverCert: pem('CERTIFICATE'), serverKey: pem('PRIVATE KEY') }).strict().optional(),
  timeoutSeconds: z.number().int().min(1).max(86_400),
  // Encrypted disks: disk name → passphrase, stored by the target before its QEMU starts (docs/security.md "Encrypted disks").
  diskKeys: z.record(z.string().max(64), z.string().min(1).max(1024)).refine((r) => Object.keys(r).length <= 16, 'at most 16 disks').optional(),
}).strict();

const abortBody = z.object({ vm: z.string(), vmId: uuid }).strict();

/** The spec as the source's store holds it (normalized, memory in bytes), checked again by our own schema. */
function checkedSpec(spec: Record<string, unknown>, name: string): VmSpec {
  const s = validateSpec(specAsInput(spec));
  if (s.name !== name) fail('INVALID_BODY', `vm.name ${name} and the spec's name ${s.name} differ`);
  return s;
}

const idOf = (v: string): string => parseWith(id, v, 'migration id', 'INVALID_ARGUMENT');

export function incomingMigrationRoutes(app: FastifyInstance, incoming: IncomingService): void {
  app.post('/v1/migrations/incoming', {
    config: { permission: 'vm:migrate-in', doc: { summary: 'Target of a host-to-host move: check compatibility, reserve the VM, start the incoming side', tags, body: incomingBody, response: { status: 200, description: 'where to send the stream and the disks', schema: incomingReadySchema } } },
  }, async (req) => {
    const b = bodyOf<z.infer<typeof incomingBody>>(req);
    validateName(b.vm.name, 'VM name');
    const spec = checkedSpec(b.vm.spec, b.vm.name);
    for (const d of b.disks) if (!spec.disks.some((x) => x.name === d.name)) fail('INVALID_BODY', `disk ${d.name} is not in the VM's spec`);
    // The move's listeners will accept only the address this request came from (audit defect 4).
    return incoming.prepare({ ...b, vm: { ...b.vm, spec } } as IncomingRequest, { ...(req.socket.remoteAddress ? { peer: req.socket.remoteAddress } : {}) });
  });

  app.get<{ Params: IdParams }>('/v1/migrations/incoming/:id', {
    config: { permission: 'vm:migrate-in', doc: { summary: 'State of an incoming move', tags, response: { status: 200, description: 'its phase', schema: incomingStatusSchema } } },
  }, async (req) => incoming.status(idOf(req.params.id)));

  app.post<{ Params: IdParams }>('/v1/migrations/incoming/:id/commit', {
    config: { permission: 'vm:migrate-in', doc: { summary: 'Take the VM over: from now on this host owns it', tags, response: { status: 200, description: 'the VM runs here now', schema: commitSchema } } },
  }, async (req) => incoming.commit(idOf(req.params.id)));

  app.post<{ Params: IdParams }>('/v1/migrations/incoming/:id/abort', {
    config: { permission: 'vm:migrate-in', doc: { summary: 'Roll an uncommitted move back (idempotent); says whether it had been committed', tags, body: abortBody, response: { status: 200, description: 'what the abort found', schema: abortSchema } } },
  }, async (req) => {
    const b = bodyOf<z.infer<typeof abortBody>>(req);
    return incoming.abort(idOf(req.params.id), { name: b.vm, id: b.vmId });
  });
}
