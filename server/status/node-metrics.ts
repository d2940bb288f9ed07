/**
 * prom-client's standard process and Node metrics, all but one: GC durations. Measuring them
 * takes a `gc` PerformanceObserver, and with one installed the relay's upload path ran about 60
 * full (mark-compact) collections per 2 GiB instead of 8, on top of the scavenges (bench figure
 * 1, measured with --trace-gc). collectDefaultMetrics has no way to leave one out, so the
 * others are registered one by one, from the modules it is made of.
 */
import { createRequire } from 'node:module';
import type { Registry } from 'prom-client';

type DefaultMetric = (registry: Registry, config: { eventLoopMonitoringPrecision: number }) => void;

/** prom-client's lib/metrics/ modules, in collectDefaultMetrics' order, without gc. */
const METRIC_MODULES = [
  'processCpuTotal',
  'processStartTime',
  'osMemoryHeap',
  'processOpenFileDescriptors',
  'processMaxFileDescriptors',
  'eventLoopLag',
  'processResources',
  'processHandles',
  'processRequests',
  'heapSizeAndUsed',
  'heapSpacesSizeAndUsed',
  'version',
] as const;

/** prom-client's own default. */
const EVENT_LOOP_MONITORING_PRECISION_MS = 10;

const require = createRequire(import.meta.url);

export function collectNodeMetrics(registry: Registry): void {
  for (const name of METRIC_MODULES) {
    if (name === 'processResources' && typeof process.getActiveResourcesInfo !== 'function') continue;
    const register = require(`prom-client/lib/metrics/${name}`) as DefaultMetric;
    register(registry, { eventLoopMonitoringPrecision: EVENT_LOOP_MONITORING_PRECISION_MS });
  }
}
