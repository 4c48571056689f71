/**
 * Ties a response schema to the TypeScript type the handler returns: the
 * build fails when either changes without the other (a field added to the
 * type and not to the schema, or the reverse).
 */
import type { z, ZodType } from 'zod';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** `describes<VmView>()(z.object({...}))`: the schema, checked to parse to exactly VmView. */
export const describes = <T>() => <S extends ZodType>(schema: S, ..._exact: Same<z.output<S>, T> extends true ? [] : [never]): S => schema;
