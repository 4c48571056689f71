/**
 * Ties a response schema to the TypeScript type the handler returns: the
 * build fails when either changes without the other (a field added to the
 * type and not to the schema, or the reverse).
 */
import type { z, ZodType } from 'zod';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Same types with the same keys: an optional field the schema leaves out is caught too. */
type Exact<A, B> = Same<A, B> extends true ? Same<keyof A, keyof B> : false;

/** `describes<VmView>()(z.object({...}))`: the schema, checked to parse to exactly VmView. */
export const describes = <T>() => <S extends ZodType>(schema: S, ..._exact: Exact<z.output<S>, T> extends true ? [] : [never]): S => schema;
