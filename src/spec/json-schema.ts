import { z } from 'zod';
import { vmSpecSchema } from './schema.js';

/** JSON Schema (draft 2020-12) of what users may write, for `polyvisor spec schema` and editors. */
export function specJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(vmSpecSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return { ...schema, $id: 'https://polyvisor.dev/schema/vm-spec-v1.json', title: 'Polyvisor VM spec v1' };
}
