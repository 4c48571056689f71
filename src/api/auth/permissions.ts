/**
 * Every route declares one permission in its options (`config: { permission }`);
 * each role holds a fixed set of them. docs/api.md renders this table.
 */
import { ROLES } from '../../shared/index.js';
import type { Role } from '../../spec/index.js';

export const PERMISSIONS = [
  'public', // no token needed (health, OpenAPI document, the web UI's shell and assets)
  'system:read',
  'metrics:read', // GET /metrics (Prometheus)
  'vm:read',
  'vm:write', // create, remove
  'vm:operate', // start, stop, kill, pause, resume, reboot, suspend
  'vm:console',
  'vm:migrate',
  'vm:migrate-in', // host-to-host: receive a VM from another daemon (its source calls these routes)
  'vm:snapshot',
  'vm:backup',
  'backup:schedule', // create, change, remove backup schedules
  'operation:read',
  'operation:cancel',
  'event:read',
  'storage:read',
  'storage:write',
  'token:admin',
  'peer:admin', // register and remove the daemons VMs may be moved to (audit defect 7)
  'endpoint:admin', // add and remove endpoints (other hypervisors) and their credentials
  'secret:admin', // the secrets store: names, set, remove, rotate the key (values are never returned)
  'audit:read',
  'network:read', // virtual networks, their NICs and leases
  'network:admin', // create and remove virtual networks (host network configuration: admins only, like Proxmox)
  'host:admin', // cordon and uncordon cluster hosts (docs/ha.md)
] as const;

export type Permission = (typeof PERMISSIONS)[number];

const VIEWER: readonly Permission[] = ['system:read', 'metrics:read', 'vm:read', 'operation:read', 'event:read', 'storage:read', 'network:read'];
const OPERATOR: readonly Permission[] = [...VIEWER, 'vm:write', 'vm:operate', 'vm:console', 'vm:migrate', 'vm:snapshot', 'vm:backup', 'backup:schedule', 'operation:cancel'];
/**
 * Another daemon's credential for moving VMs here, and nothing else (audit defect 3): receiving a VM
 * creates files and QEMU processes from a spec the peer sends, so it is not part of the operator role.
 */
const PEER: readonly Permission[] = ['system:read', 'vm:migrate-in'];
const ADMIN: readonly Permission[] = PERMISSIONS.filter((p) => p !== 'public');

export const ROLE_PERMISSIONS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  admin: new Set(ADMIN),
  operator: new Set(OPERATOR),
  viewer: new Set(VIEWER),
  peer: new Set(PEER),
};

export function isPermission(p: unknown): p is Permission {
  return typeof p === 'string' && (PERMISSIONS as readonly string[]).includes(p);
}

export function roleAllows(role: Role, permission: Permission): boolean {
  return permission === 'public' || ROLE_PERMISSIONS[role].has(permission);
}

/** The roles holding `permission`, strongest first (for error messages and the OpenAPI document). */
export function rolesWith(permission: Permission): Role[] {
  return ROLES.filter((r) => roleAllows(r, permission));
}
