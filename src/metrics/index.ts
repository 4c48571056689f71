export { MetricsExporter, stopCause, type ExporterOptions } from './exporter.js';
export { readHost, parseProcStat, parseMeminfo, parseNetDev, parseDiskstats, type HostSample } from './host.js';
export { VM_STATES } from './vm-series.js';
export type { MetricSources, VmMetricSample, PoolMetricSample, OperationMetricSample, StateChangeSample, MirrorMetricSample, ForeignVmMetricSample, EndpointMetricSample, HostTopologyMetricSample } from './types.js';
