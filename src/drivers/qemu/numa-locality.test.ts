import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { migrateProcessPages } from './numa-locality.js';

const nodes = readFileSync('/sys/devices/system/node/online', 'utf8').trim();

describe('migratepages on this host (numactl; one NUMA node here, so pages move from node 0 to node 0)', () => {
  it('runs with the PID and node lists as argv, and a node the host lacks fails naming the tool', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      expect(nodes).toBe('0'); // if this host ever has more nodes, move pages between two of them instead
      await expect(migrateProcessPages(child.pid!, [0], [0], AbortSignal.timeout(10_000))).resolves.toBeUndefined();
      await expect(migrateProcessPages(child.pid!, [0], [7], AbortSignal.timeout(10_000))).rejects.toMatchObject({ message: expect.stringMatching(/^migratepages exited with 1/) });
      await expect(migrateProcessPages(0, [0], [0], AbortSignal.timeout(10_000))).rejects.toThrow(/bad arguments/);
    } finally {
      child.kill();
    }
  });
});
