/**
 * POST /v1/vms/:name/resize (issue 22): vCPUs, memory and the balloon target
 * of a VM; hot-plugged when it runs, the spec alone when it is stopped.
 * Operators may, as they may start and stop VMs (Proxmox's VM.Config.CPU /
 * VM.Config.Memory sit with the power rights in its PVEVMUser-like roles).
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { ResizeService } from '../../lifecycle/index.js';
import type { ResizeBody } from '../../spec/index.js';
import { bodyOf } from '../validate.js';
import { resizeViewSchema } from '../schemas/index.js';

const resizeBody = z.object({
  cpus: z.number().int().min(1).max(256).optional().describe('vCPUs (up to cpu.max); hot-added ones can be taken out again if the guest lets go'),
  memoryMiB: z.number().int().min(1).optional().describe('memory in MiB (up to memory.max); a running VM grows in whole 128 MiB DIMMs and does not shrink'),
  balloonMiB: z.number().int().min(1).optional().describe('balloon target in MiB: what a running guest may keep (at most its memory)'),
}).strict();

export function vmResizeRoutes(app: FastifyInstance, resize: ResizeService): void {
  app.post<{ Params: { name: string } }>('/v1/vms/:name/resize', {
    config: {
      permission: 'vm:operate',
      doc: {
        summary: 'Change the vCPUs, memory or balloon target of a VM (hot-plugged when it runs; the spec follows each step that succeeded)',
        tags: ['vms'], body: resizeBody, response: { status: 200, description: 'the VM\'s vCPUs, memory and balloon after the change', schema: resizeViewSchema },
      },
    },
  }, async (req) => resize.resize(req.params.name, bodyOf<ResizeBody>(req)));
}
