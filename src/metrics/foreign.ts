/**
 * Series of other endpoints' VMs, each with an `endpoint` label: state (one
 * series per VM with value 1 and its state as a label), vCPUs, memory, and
 * whether each endpoint answered its last listing. Rebuilt on every scrape,
 * so a VM that left an endpoint leaves /metrics too.
 */
import { Gauge, type Registry } from 'prom-client';
import type { EndpointMetricSample, ForeignVmMetricSample } from './types.js';

export class ForeignMetrics {
  private readonly state: Gauge;
  private readonly vcpus: Gauge;
  private readonly memory: Gauge;
  private readonly up: Gauge;

  constructor(registry: Registry) {
    const registers = [registry];
    this.state = new Gauge({ name: 'polyvisor_endpoint_vm_state', help: 'VMs of other endpoints: 1 per VM, its state as a label', labelNames: ['endpoint', 'driver', 'vm', 'state'], registers });
    this.vcpus = new Gauge({ name: 'polyvisor_endpoint_vm_vcpus', help: 'vCPUs of a VM of another endpoint', labelNames: ['endpoint', 'vm'], registers });
    this.memory = new Gauge({ name: 'polyvisor_endpoint_vm_memory_bytes', help: 'Memory of a VM of another endpoint, as its hypervisor reports it', labelNames: ['endpoint', 'vm'], registers });
    this.up = new Gauge({ name: 'polyvisor_endpoint_up', help: '1 when the endpoint answered its last listing', labelNames: ['endpoint'], registers });
  }

  update(vms: readonly ForeignVmMetricSample[], endpoints: readonly EndpointMetricSample[]): void {
    this.state.reset();
    this.vcpus.reset();
    this.memory.reset();
    this.up.reset();
    for (const v of vms) {
      this.state.set({ endpoint: v.endpoint, driver: v.driver, vm: v.vm, state: v.state }, 1);
      this.vcpus.set({ endpoint: v.endpoint, vm: v.vm }, v.cpus);
      this.memory.set({ endpoint: v.endpoint, vm: v.vm }, v.memoryBytes);
    }
    for (const e of endpoints) this.up.set({ endpoint: e.endpoint }, e.up ? 1 : 0);
  }
}
