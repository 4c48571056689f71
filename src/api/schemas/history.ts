/** GET /v1/vms/{name}/history and GET /v1/host/history: sampled figures, oldest first (spec/history-views.ts). */
import { z } from 'zod';
import { HISTORY_RANGES, type HostHistoryView, type VmHistoryView } from '../../spec/index.js';
import { describes } from './describes.js';

const figure = (what: string) => z.number().nullable().describe(`${what}; null when it could not be read`);
const t = z.number().int().describe('start of the step, epoch milliseconds');
const range = z.enum(HISTORY_RANGES);
const stepSeconds = z.number().int().describe('10 for 1h, 60 for 6h and 1d');

export const vmHistorySchema = describes<VmHistoryView>()(z.object({
  range,
  stepSeconds,
  points: z.array(z.object({
    t,
    cpuPercent: figure('CPU of the QEMU process, percent of the VM\'s vCPUs'),
    memHostBytes: figure('memory QEMU holds on the host (RSS)'),
    memGuestUsedBytes: figure('memory the guest uses (balloon statistics)'),
    memGuestTotalBytes: figure('memory the guest has (balloon size, else the spec\'s memory)'),
    diskReadBps: figure('bytes per second read from all disks'),
    diskWriteBps: figure('bytes per second written to all disks'),
    netRxBps: figure('bytes per second received by all NICs (guest agent counters)'),
    netTxBps: figure('bytes per second sent by all NICs'),
  })).describe('oldest first; no point where the VM did not run'),
}).meta({ id: 'VmHistory' }));

export const hostHistorySchema = describes<HostHistoryView>()(z.object({
  range,
  stepSeconds,
  points: z.array(z.object({
    t,
    cpuPercent: figure('busy share of all CPUs, percent'),
    memUsedBytes: figure('MemTotal − MemAvailable'),
    memTotalBytes: figure('MemTotal'),
    load1: figure('1-minute load average'),
  })).describe('oldest first'),
}).meta({ id: 'HostHistory' }));
