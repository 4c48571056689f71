/** Answers of the system routes: doctor's report, JSON documents, and the non-JSON bodies (text, events, pages). */
import { z } from 'zod';
import type { DoctorReport } from '../../doctor/index.js';
import { describes } from './describes.js';

const severity = z.enum(['ok', 'info', 'warning', 'critical']);

export const doctorSchema = describes<DoctorReport>()(z.object({
  host: z.string(),
  checkedAt: z.string(),
  status: severity.describe('the worst severity found'),
  findings: z.array(z.object({
    check: z.string(),
    severity,
    subject: z.string().nullable(),
    message: z.string(),
    fix: z.object({ command: z.string(), argv: z.array(z.string()) }).nullable(),
  })),
}).meta({ id: 'DoctorReport' }));

/** A JSON document whose own schema is elsewhere (the OpenAPI document, the spec's JSON Schema). */
export const jsonDocument = z.record(z.string(), z.unknown());

/** Bodies that are not JSON, by what they are. */
export const TEXT = {
  plain: 'text/plain',
  prometheus: 'text/plain; version=0.0.4',
  events: 'text/event-stream',
  html: 'text/html',
  /** JavaScript, CSS, images, fonts: by the file's extension. */
  asset: '*/*',
} as const;
