/** POST /v1/vms/{name}/resize (issue 22): what is asked and what the VM has after it. */

export interface ResizeBody {
  /** vCPUs plugged in (up to cpu.max). */
  cpus?: number;
  /** Memory in MiB (up to memory.max; a running VM grows in 128 MiB blocks). */
  memoryMiB?: number;
  /** Balloon target in MiB: what a running guest may keep. */
  balloonMiB?: number;
}

export interface ResizeView {
  vm: string;
  /** True when the running VM changed at once; false: the spec alone changed (stopped VM). */
  live: boolean;
  cpus: number;
  maxCpus: number;
  memoryMiB: number;
  maxMemoryMiB: number;
  /** What the balloon leaves the guest (QEMU's query-balloon actual), MiB; null when stopped or without a balloon. */
  balloonMiB: number | null;
  /** Which of cpus, memory, balloon this call changed. */
  changed: Array<'cpus' | 'memory' | 'balloon'>;
}
