/** Answers about endpoints (other hypervisors), drivers and the inventory across them. */
import { z } from 'zod';
import type { DriverView, EndpointView, ForeignSnapshotView, ForeignVmView, ImportView, InventoryView, InventoryVmView, MoveOutView } from '../../spec/index.js';
import { describes } from './describes.js';
import { vmViewSchema } from './vms.js';

const at = z.string().describe('ISO 8601 time');

const statusSchema = z.object({
  reachable: z.boolean(),
  product: z.string().nullable(),
  version: z.string().nullable(),
  hosts: z.array(z.string()),
  vms: z.number().int().nullable(),
  checkedAt: at,
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
}).meta({ id: 'EndpointStatus', description: 'the last contact with the endpoint' });

export const endpointSchema = describes<EndpointView>()(z.object({
  name: z.string(),
  driver: z.string(),
  url: z.string(),
  user: z.string().nullable(),
  auth: z.enum(['password', 'token', 'none']),
  tls: z.enum(['ca', 'insecure', 'system', 'none']),
  createdAt: at,
  updatedAt: at,
  status: statusSchema.nullable(),
}).meta({ id: 'Endpoint', description: 'a named connection to a hypervisor; its password or token is never returned' }));

const cellSchema = z.object({ supported: z.boolean(), note: z.string().optional() });
export const driverSchema = describes<DriverView>()(z.object({
  name: z.string(),
  title: z.string(),
  live: z.boolean().describe('false: reached only through file formats'),
  urlExample: z.string(),
  capabilities: z.record(z.string(), cellSchema),
}).meta({ id: 'Driver', description: 'a driver and its capability matrix' }));

const rowFields = {
  endpoint: z.string(),
  driver: z.string(),
  ref: z.string().describe('NAME for local VMs, ENDPOINT/NAME for others'),
  name: z.string(),
  id: z.string(),
  state: z.string(),
  cpus: z.number().int(),
  memoryBytes: z.number(),
  host: z.string().nullable(),
  actions: z.array(z.string()).describe('capabilities its driver can do from this state'),
};
export const inventoryVmSchema = describes<InventoryVmView>()(z.object(rowFields).meta({ id: 'InventoryVm' }));
export const inventorySchema = describes<InventoryView>()(z.object({
  vms: z.array(inventoryVmSchema),
  errors: z.array(z.object({ endpoint: z.string(), code: z.string(), message: z.string() })),
  stale: z.array(z.string()).describe('endpoints whose rows are the last known, because they did not answer'),
}).meta({ id: 'Inventory' }));
export const foreignVmSchema = describes<ForeignVmView>()(z.object({
  ...rowFields,
  guestOs: z.string().nullable(),
  firmware: z.enum(['bios', 'uefi']).nullable(),
  disks: z.array(z.object({ name: z.string(), sizeBytes: z.number().nullable(), location: z.string().nullable(), format: z.string().nullable() })),
  nics: z.array(z.object({ mac: z.string().nullable(), network: z.string().nullable(), model: z.string().nullable() })),
}).meta({ id: 'ForeignVm' }));
export const foreignSnapshotSchema = describes<ForeignSnapshotView>()(z.object({
  name: z.string(), parent: z.string().nullable(), createdAt: at.nullable(), description: z.string(), memory: z.boolean(), current: z.boolean(),
}).meta({ id: 'ForeignSnapshot' }));
export const importSchema = describes<ImportView>()(z.object({
  vm: vmViewSchema,
  source: z.string().describe('ENDPOINT/NAME it came from'),
  lossy: z.array(z.string()).describe('what of the source\'s config did not map, one sentence each'),
  disks: z.array(z.object({ name: z.string(), fromFormat: z.string(), bytes: z.number() })),
}).meta({ id: 'Import', description: 'a VM brought from another hypervisor' }));
export const moveOutSchema = describes<MoveOutView>()(z.object({
  vm: foreignVmSchema,
  endpoint: z.string(),
  copied: z.array(z.string()).describe('disks copied as qcow2 to the endpoint'),
  shared: z.array(z.string()).describe('read-only images both sides name by path'),
  localRemoved: z.boolean().describe('false with keep: the local VM is still here'),
}).meta({ id: 'MoveOut', description: 'a local VM moved to another hypervisor' }));
