/**
 * Hypervisors reached only through their file formats, not as live
 * endpoints: their rows say so, with every live capability refused, so
 * nobody is led to think otherwise. Hyper-V (drivers/hyperv) and XCP-ng
 * (drivers/xcpng) have live drivers now, each tested against a simulator and
 * keeping its file formats' import and export cells; the list is empty until
 * another hypervisor is reached through files alone.
 */
import type { DriverRow } from './registry.js';

export const FILE_FORMAT_DRIVERS: readonly DriverRow[] = [];
