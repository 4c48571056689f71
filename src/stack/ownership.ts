/**
 * Which stack owns an object. VMs carry it in their spec's labels (so `vm
 * list --selector polyvisor.stack=NAME` finds them, and it travels with the
 * spec); networks and volumes have no labels, so the stack's record in the
 * store lists them (stack-records.ts). Pure.
 */
import type { VmSpec } from '../spec/index.js';

export const STACK_LABEL = 'polyvisor.stack';
export const MEMBER_LABEL = 'polyvisor.stack.member';

export interface Owner {
  stack: string;
  member: string;
}

/** The stack and member a VM belongs to, or null when no stack owns it. */
export function vmOwner(spec: Pick<VmSpec, 'labels'>): Owner | null {
  const stack = spec.labels[STACK_LABEL];
  if (stack === undefined) return null;
  return { stack, member: spec.labels[MEMBER_LABEL] ?? '' };
}

/** True when `spec` is owned by the stack `name` (never true for a VM without the label). */
export function ownedBy(spec: Pick<VmSpec, 'labels'>, name: string): boolean {
  return vmOwner(spec)?.stack === name;
}
