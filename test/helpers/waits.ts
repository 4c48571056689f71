/** Guest-wait limits (test/helpers/limits.ts) in whole seconds, for APIs that take seconds (waitOperation, --boot-timeout). */
import { limit, type WaitKind } from './limits.js';

export function limitSeconds(kind: WaitKind, times = 1): number {
  return Math.ceil(limit(kind, times) / 1000);
}
