import { z } from 'zod';
import { vmSpecSchema } from './schema.js';

type Json = Record<string, unknown>;

/** JSON Schema (draft 2020-12) of what users may write, for `polyvisor spec schema` and editors. */
export function specJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(vmSpecSchema, { io: 'input', unrepresentable: 'any' }) as Json;
  // Users write v2's memory layout inside `memory: {size, …}` (validateSpec lifts it into memoryLayout).
  const props = schema['properties'] as Record<string, Json>;
  const layout = props['memoryLayout'];
  const size = props['memory'];
  if (layout && size) {
    const { default: dflt, description, ...sizeOnly } = size;
    props['memory'] = {
      description, default: dflt,
      anyOf: [sizeOnly, { type: 'object', properties: { size: sizeOnly, ...(layout['properties'] as Json) }, additionalProperties: false }],
    };
    delete props['memoryLayout'];
  }
  return { ...schema, $id: 'https://polyvisor.dev/schema/vm-spec-v2.json', title: 'Polyvisor VM spec v2 (reads v1)' };
}
