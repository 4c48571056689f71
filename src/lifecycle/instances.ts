/**
 * Live driver instances by VM name, and the wiring of their events into the
 * per-VM job queue, so an event never races an operation on the same VM.
 */
import type { DriverEvent, VmInstance } from '../drivers/index.js';
import type { Logger } from '../shared/index.js';

export type EventSink = (vm: string, instance: VmInstance, event: DriverEvent) => void;

export class InstanceRegistry {
  private readonly live = new Map<string, { instance: VmInstance; off: () => void }>();

  constructor(
    private readonly sink: EventSink,
    private readonly log: Logger,
  ) {}

  add(vm: string, instance: VmInstance): void {
    this.remove(vm);
    const off = instance.onEvent((e) => {
      this.log.debug({ vm, event: e }, 'driver event');
      this.sink(vm, instance, e);
    });
    this.live.set(vm, { instance, off });
  }

  get(vm: string): VmInstance | undefined {
    return this.live.get(vm)?.instance;
  }

  /** Forgets the instance (its process is gone or is being handed over). */
  remove(vm: string): void {
    const entry = this.live.get(vm);
    if (!entry) return;
    entry.off();
    entry.instance.detach();
    this.live.delete(vm);
  }

  /** Drops every monitor connection; the VMs keep running (daemon shutdown). */
  detachAll(): void {
    for (const vm of [...this.live.keys()]) this.remove(vm);
  }

  names(): string[] {
    return [...this.live.keys()];
  }
}
