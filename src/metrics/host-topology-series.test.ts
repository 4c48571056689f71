import { describe, expect, it } from 'vitest';
import { MetricsExporter, type HostTopologyMetricSample } from './index.js';

/** The shape of a 2-node GPU host's inventory (numbers as the fixtures of test/fixtures/host-sysfs have them). */
const sample = (free: number): HostTopologyMetricSample => ({
  nodes: [
    { id: 0, memoryBytes: 65842292 * 1024, freeBytes: 60113548 * 1024, hugepages: { '2M': { total: 512, free: 512 }, '1G': { total: 4, free: 4 } } },
    { id: 1, memoryBytes: 66058900 * 1024, hugepages: { '2M': { total: 512, free } } },
  ],
  gpus: [{ address: '0000:3b:00.0', vendorName: 'NVIDIA Corporation', model: 'TU104GL [Tesla T4]', driver: 'nvidia', iommuGroup: 40, numaNode: 1, mdevTypes: [{ type: 'nvidia-232', name: 'GRID T4-4Q', available: 3 }] }],
});

describe('host topology series', () => {
  it('nodes, hugepages per node and size, mdev instances and GPU info; read at most every 15 s', async () => {
    const ex = new MetricsExporter({ version: '1', processMetrics: false });
    let reads = 0;
    ex.setSources({ vms: async () => [], hostTopology: async () => sample(100 - reads++) });
    const text = await ex.render();
    expect(text).toContain(`polyvisor_host_numa_node_memory_bytes{node="1"} ${66058900 * 1024}`);
    expect(text).toContain(`polyvisor_host_numa_node_free_bytes{node="0"} ${60113548 * 1024}`);
    expect(text).not.toContain('polyvisor_host_numa_node_free_bytes{node="1"}');
    expect(text).toContain('polyvisor_host_hugepages_free{node="1",size="2M"} 100');
    expect(text).toContain('polyvisor_host_hugepages_total{node="0",size="1G"} 4');
    expect(text).toContain('polyvisor_host_mdev_available_instances{device="0000:3b:00.0",type="nvidia-232",name="GRID T4-4Q"} 3');
    expect(text).toContain('polyvisor_host_gpu_info{device="0000:3b:00.0",vendor="NVIDIA Corporation",model="TU104GL [Tesla T4]",driver="nvidia",iommu_group="40",node="1"} 1');
    await ex.render();
    expect(reads).toBe(1);
  });

  it('a failing read counts a scrape error and leaves the rest of the scrape', async () => {
    const ex = new MetricsExporter({ version: '1', processMetrics: false });
    ex.setSources({ vms: async () => [], hostTopology: async () => { throw new Error('sysfs gone'); } });
    expect(await ex.render()).toContain('polyvisor_scrape_errors_total{source="host-topology"} 1');
  });
});
