/**
 * Field problems from a zod error, in Polyvisor's own words: one phrasing per rule, never the
 * validator's text ("Too small: expected number to be >=1" becomes "must be at least 1"), each
 * field and message once. Messages the schema wrote itself (custom rules, patterns with a rule
 * text) are kept as they are.
 */
import type { z } from 'zod';

export interface FieldProblem {
  /** Dotted path of the field, e.g. "cpu.count" or "disks.0.path". */
  field: string;
  message: string;
}

const TYPE_NAMES: Record<string, string> = {
  number: 'a number', int: 'a whole number', string: 'text', boolean: 'true or false', object: 'a mapping of fields',
  array: 'a list', record: 'a mapping', bigint: 'a whole number', date: 'a date',
};

const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

function bound(i: { origin?: string; inclusive?: boolean }, n: number, least: boolean): string {
  const word = least ? (i.inclusive === false ? 'more than' : 'at least') : (i.inclusive === false ? 'less than' : 'at most');
  if (i.origin === 'string') return `must be ${word} ${plural(n, 'character', 'characters')} long`;
  if (i.origin === 'array' || i.origin === 'set') return `must have ${word} ${plural(n, 'item', 'items')}`;
  return `must be ${word} ${n}`;
}

/** The zod default messages all start like this; a schema's own messages never do. */
const ZOD_DEFAULT = /^(Invalid|Too (small|big)|Unrecognized key)/;

type Issue = z.core.$ZodIssue;

function messageOf(i: Issue): string {
  if (!ZOD_DEFAULT.test(i.message)) return i.message;
  switch (i.code) {
    case 'invalid_type':
      return /received undefined$/.test(i.message) ? 'is required' : `must be ${TYPE_NAMES[i.expected] ?? i.expected}`;
    case 'too_small':
      return bound(i, Number(i.minimum), true);
    case 'too_big':
      return bound(i, Number(i.maximum), false);
    case 'invalid_value':
      return i.values.length === 1 ? `must be ${JSON.stringify(i.values[0])}` : `must be one of ${i.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(i.divisor)}`;
    default:
      return 'is not a valid value; `polyvisor spec schema` shows the rule';
  }
}

export function problemsOf(error: z.ZodError): FieldProblem[] {
  const out: FieldProblem[] = [];
  const seen = new Set<string>();
  const add = (path: PropertyKey[], message: string) => {
    const field = path.map(String).join('.') || '(root)';
    const key = `${field}\n${message}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push({ field, message });
  };
  for (const i of error.issues) {
    if (i.code === 'unrecognized_keys') for (const k of i.keys) add([...i.path, k], 'is not a known field');
    else add(i.path, messageOf(i));
  }
  return out;
}
