/** POST /v1/vms/{name}/resize: the VM's vCPUs, memory and balloon after the change. */
import { z } from 'zod';
import type { ResizeView } from '../../spec/index.js';
import { describes } from './describes.js';

export const resizeViewSchema = describes<ResizeView>()(z.object({
  vm: z.string(),
  live: z.boolean().describe('the running VM changed at once; false: the spec alone changed (stopped VM)'),
  cpus: z.number().int().describe('vCPUs now'),
  maxCpus: z.number().int().describe('cpu.max (or the count when there is none)'),
  memoryMiB: z.number().describe('memory now, MiB'),
  maxMemoryMiB: z.number().describe('memory.max (or the memory when there is none), MiB'),
  balloonMiB: z.number().int().nullable().describe('what the balloon leaves the guest (query-balloon actual), MiB; null when stopped or without a balloon'),
  changed: z.array(z.enum(['cpus', 'memory', 'balloon'])).describe('what this call changed'),
}).meta({ id: 'Resize' }));
