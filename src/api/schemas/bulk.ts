/** Answers of bulk actions (POST /v1/vms/actions): the operation, with the per-VM report as its detail (and its result once succeeded). */
import { z } from 'zod';
import { BULK_ACTIONS, BULK_RESULTS, VM_STATES, type BulkReport, type BulkVmResult } from '../../spec/index.js';
import { describes } from './describes.js';
import { operationSchema } from './platform.js';

const bulkVmResultSchema = describes<BulkVmResult>()(z.object({
  vm: z.string(),
  result: z.enum(BULK_RESULTS).describe('ok, failed, skipped (the state does not allow it, or cancelled first), planned (dry run); pending or running while the bulk runs'),
  before: z.enum(VM_STATES).describe('the VM\'s state when picked'),
  after: z.enum(VM_STATES).nullable().describe('its state once its action finished; null while pending, after a failure, or when it left this host'),
  error: z.object({ code: z.string(), message: z.string(), hint: z.string() }).nullable().describe('why it failed (catalogue code)'),
  reason: z.string().nullable().describe('why it was skipped, or what a dry run would do'),
  output: z.record(z.string(), z.unknown()).nullable().describe('what the action made: snapshot name, backup id, a move\'s target'),
  ms: z.number().describe('wall time of its action'),
}));

export const bulkReportSchema = describes<BulkReport>()(z.object({
  action: z.enum(BULK_ACTIONS),
  selector: z.string().nullable(),
  names: z.array(z.string()).nullable(),
  dryRun: z.boolean(),
  concurrency: z.number().int(),
  total: z.number().int().describe('VMs picked'),
  done: z.number().int().describe('VMs finished (ok, failed, skipped or planned): progress is done of total'),
  ok: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  results: z.array(bulkVmResultSchema).describe('one per VM picked, by name'),
}).meta({ id: 'BulkReport' }));

export const bulkOperationSchema = operationSchema.extend({
  kind: z.string().describe('bulk.ACTION'),
  result: bulkReportSchema.optional().describe('the report, once succeeded'),
  detail: bulkReportSchema.optional().describe('the report, kept current as each VM finishes (and kept when the operation failed)'),
}).meta({ id: 'BulkOperation' });
