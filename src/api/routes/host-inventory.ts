/**
 * GET /v1/host/inventory (issue 22, docs/topology.md): what the answering
 * host has for VMs to ask of it — NUMA nodes with CPUs, memory and free
 * hugepages, the CPU model and flags, PCI devices with IOMMU groups and bound
 * drivers, GPUs with mdev types — read from sysfs and procfs, never changed.
 */
import type { FastifyInstance } from 'fastify';
import type { HostInventoryView } from '../../spec/index.js';
import { hostInventorySchema } from '../schemas/index.js';

export function hostInventoryRoutes(app: FastifyInstance, read: () => Promise<HostInventoryView>): void {
  app.get('/v1/host/inventory', {
    config: { permission: 'system:read', doc: { summary: 'This host\'s NUMA nodes, hugepages, CPU model and flags, PCI devices with IOMMU groups and drivers, and GPUs with their mdev types (read from sysfs and procfs)', tags: ['system'], response: { status: 200, description: 'the inventory', schema: hostInventorySchema } } },
  }, async () => read());
}
