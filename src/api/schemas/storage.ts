/** Answers of the storage routes: pools, volumes, library images, VM disks and exports, progress lines. */
import { z } from 'zod';
import type { AttachResult } from '../../lifecycle/index.js';
import { diskSchema } from '../../spec/index.js';
import { DISK_FORMATS, POOL_KINDS, type ExportResult, type LibraryImage, type PoolView, type VolumeView } from '../../storage/index.js';
import { describes } from './describes.js';

const bytes = z.number().int().min(0);

export const poolSchema = describes<PoolView>()(z.object({
  name: z.string(),
  kind: z.enum(POOL_KINDS),
  path: z.string(),
  capacityBytes: bytes,
  freeBytes: bytes,
  usedBytes: bytes,
  default: z.boolean(),
  volumes: z.number().int(),
  allocatedBytes: bytes,
}).meta({ id: 'Pool' }));

export const volumeSchema = describes<VolumeView>()(z.object({
  pool: z.string(),
  name: z.string(),
  format: z.enum(['qcow2', 'raw']),
  path: z.string().describe("what a VM spec disk's path is set to"),
  virtualSize: bytes,
  actualSize: bytes.nullable(),
  backingFile: z.string().nullable().describe('linked clones: the base image read through'),
}).meta({ id: 'Volume' }));

export const imageSchema = describes<LibraryImage>()(z.object({
  name: z.string(),
  kind: z.enum(['iso', 'disk']),
  format: z.string(),
  path: z.string(),
  sizeBytes: bytes,
  virtualSize: bytes,
  checksum: z.object({ algorithm: z.enum(['sha256', 'sha512']), hex: z.string() }),
  verified: z.boolean(),
  source: z.string(),
  importedAt: z.string(),
}).meta({ id: 'Image' }));

export const attachSchema = describes<AttachResult>()(z.object({
  vm: z.string(),
  disk: diskSchema,
  hotplugged: z.boolean().describe('plugged into the running VM'),
}).meta({ id: 'DiskAttached' }));

export const exportSchema = describes<ExportResult>()(z.object({
  outDir: z.string(),
  files: z.array(z.object({
    file: z.string(), source: z.string(), format: z.enum(DISK_FORMATS), bytes, sha256: z.string(), checked: z.boolean(), identical: z.literal(true), seconds: z.number(),
  })),
  sumsFile: z.string(),
}).meta({ id: 'Export' }));

/** A line of `?progress=ndjson`: a progress report, then one result or one error (api/progress-stream.ts). */
export const progressLineSchema = z.union([
  z.object({ progress: z.record(z.string(), z.unknown()) }),
  z.object({ result: z.unknown() }),
  z.object({ error: z.object({ code: z.string(), message: z.string(), hint: z.string(), details: z.unknown().optional() }) }),
]).meta({ id: 'ProgressLine' });

/** The query string of a long storage route: `?progress=ndjson` asks for the stream. */
export const progressQuery = z.object({ progress: z.literal('ndjson').optional().describe('ndjson: stream progress lines, then the result') });

/** The NDJSON alternative of a long storage route (`?progress=ndjson`). */
export const progressStream = { status: 200, description: 'with ?progress=ndjson: one JSON line per progress report, then {result} or {error}', contentType: 'application/x-ndjson', itemSchema: progressLineSchema };
