/**
 * Golden-file checks for the interchange writers and readers:
 * `UPDATE_GOLDEN=1 npx vitest run --project unit src/interchange` rewrites
 * the files under test/golden/interchange/; review the diff.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { VmSpec } from '../../../src/spec/index.js';

export const GOLDEN_DIR = path.resolve(import.meta.dirname);

/** Compares text with test/golden/interchange/FORMAT/FILE (writing it when missing or with UPDATE_GOLDEN=1). */
export function expectGolden(format: string, file: string, text: string): void {
  const full = path.join(GOLDEN_DIR, format, file);
  if (process.env['UPDATE_GOLDEN'] === '1' || !existsSync(full)) {
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, text);
  }
  expect(text).toBe(readFileSync(full, 'utf8'));
}

export const readGolden = (format: string, file: string): string => readFileSync(path.join(GOLDEN_DIR, format, file), 'utf8');

/** What a round trip is compared on: the fields every format carries, in a shape lossy mappings can rewrite. */
export interface Projection {
  name: string;
  cpus: number;
  memoryMiB: number;
  firmware: string;
  secureBoot: boolean;
  disks: Array<{ media: string; bus: string }>;
  nics: Array<{ model: string; mac?: string }>;
  osType: string | undefined;
  description: string;
  video: string | undefined;
}

export function project(s: VmSpec): Projection {
  return {
    name: s.name,
    cpus: s.cpu.count,
    memoryMiB: Math.ceil(s.memory / 1024 ** 2),
    firmware: s.boot.firmware,
    secureBoot: s.boot.secureBoot === true,
    disks: s.disks.map((d) => ({ media: d.media, bus: d.bus })),
    nics: s.networks.map((n) => ({ model: n.model, ...(n.mac === undefined ? {} : { mac: n.mac }) })),
    osType: s.os?.type,
    description: s.description,
    video: s.display.video,
  };
}

/** Plan disk paths are the descriptor's file names (placeholders the import replaces); put converted-image paths there so the spec validates. */
export function absolutePaths<T extends { disks?: Array<{ name: string; path?: string }> }>(spec: T): T {
  return { ...spec, disks: spec.disks?.map((d) => (d.path === undefined ? d : { ...d, path: `/import/${d.name}.img` })) };
}
