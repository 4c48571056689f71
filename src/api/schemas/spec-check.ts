/** POST /v1/specs/validate: the problems a create would list, without creating anything. */
import { z } from 'zod';
import { SPEC_CHECK_CODES, vmSpecSchema, type SpecCheckView } from '../../spec/index.js';
import { describes } from './describes.js';

export const specCheckSchema = describes<SpecCheckView>()(z.object({
  valid: z.boolean().describe('true when a create with this spec would pass every check made here'),
  problems: z.array(z.object({
    field: z.string().describe('dotted field path (disks.0.size), (root) for the whole document'),
    message: z.string().describe('the message a failed create gives for this field'),
    code: z.enum(SPEC_CHECK_CODES).describe('the error code a create would answer'),
  })),
  spec: vmSpecSchema.nullable().describe('the spec with every default applied, once it parses'),
}).meta({ id: 'SpecCheck' }));
