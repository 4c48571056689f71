/** Other endpoints' VMs in /metrics with an endpoint label (on the in-memory stand-in driver of test/helpers/mem-driver.ts). */
import { describe, expect, it } from 'vitest';
import { memDriver, MemSecrets } from '../../test/helpers/mem-driver.js';
import { DriverRegistry } from '../drivers/index.js';
import { EndpointService } from '../endpoints/index.js';
import { MetricsExporter } from '../metrics/index.js';
import { silentLogger } from '../shared/index.js';
import { foreignSamples } from './metrics-wiring.js';

describe('/metrics: VMs of other endpoints', () => {
  it('carry an endpoint label, follow the VM\'s state, vanish with it, and say when an endpoint is down', async () => {
    const d = memDriver();
    const endpoints = new EndpointService({ drivers: new DriverRegistry().add(d.driver), secrets: new MemSecrets(), localRows: async () => [], logger: silentLogger, pollMs: 0 });
    await endpoints.add({ name: 'lab', driver: 'mem', url: 'mem://x' }, AbortSignal.timeout(5000));
    const exporter = new MetricsExporter({ version: 't', processMetrics: false });
    exporter.setSources({ vms: async () => [], foreign: () => foreignSamples(endpoints) });
    let text = await exporter.render();
    expect(text).toContain('polyvisor_endpoint_vm_state{endpoint="lab",driver="mem",vm="a",state="stopped"} 1');
    expect(text).toContain('polyvisor_endpoint_vm_state{endpoint="lab",driver="mem",vm="b",state="running"} 1');
    expect(text).toContain(`polyvisor_endpoint_vm_memory_bytes{endpoint="lab",vm="a"} ${256 * 1024 ** 2}`);
    expect(text).toContain('polyvisor_endpoint_up{endpoint="lab"} 1');
    d.vms.delete('b');
    d.vms.set('a', { ...d.vms.get('a')!, state: 'running' });
    text = await exporter.render();
    expect(text).toContain('vm="a",state="running"} 1');
    expect(text).not.toContain('vm="a",state="stopped"');
    expect(text).not.toContain('vm="b"');
    d.setUp(false);
    text = await exporter.render();
    expect(text).toContain('polyvisor_endpoint_up{endpoint="lab"} 0');
    await endpoints.close();
  });
});
