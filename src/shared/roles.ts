/** API roles, weakest last (the permission table is in api/auth). Kept here, free of zod, so the CLI loads fast. */
export const ROLES = ['admin', 'operator', 'viewer', 'peer'] as const;
export type Role = (typeof ROLES)[number];
