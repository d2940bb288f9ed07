/**
 * A quick look across the emulated link without the whole bench:
 * `node dist/bench/wan-probe.js [--route reference|tunnel|direct] [--rtt-ms 50]
 * [--rate-bps 125000000] [--max-inflight-bytes 33554432] [--duration-ms 6000]
 * [--parallel 8] [--only download|upload|parallel] [--warmup-ms 1000]`. Starts the targets, one link
 * emulator (and for the tunnel a relay and client across it), runs the WAN scenario's
 * transfers in this process, prints the figures and the emulator's CPU use, and stops all.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { readCpuSeconds } from './cpu.js';
import { installExitHandlers, startNode, type Managed } from './processes.js';
import { rampFigures, sumSeries } from './ramp.js';
import type { Route } from './route.js';
import { sampledTransfers, type Direction } from './sampled-transfer.js';
import { cliPath, startStack } from './stack.js';
import type { TargetPorts } from './messages.js';
import { describeRamp } from './scenarios/wan.js';
import { linkFor, linkToRelay, startReferenceAcrossLink } from './wan-routes.js';
import { sleep } from './net-io.js';

const here = dirname(fileURLToPath(import.meta.url));
const LINK_SCRIPT = join(here, 'link-emulator.js');
const SAMPLE_MS = 100;
const WINDOWS = { windowMs: 500, finalMs: 2_000 };
const SETTLE_MS = 1_000;

const { values } = parseArgs({
  options: {
    route: { type: 'string', default: 'reference' },
    'rtt-ms': { type: 'string', default: '50' },
    'rate-bps': { type: 'string', default: '125000000' },
    'max-inflight-bytes': { type: 'string', default: String(32 * 1024 * 1024) },
    'duration-ms': { type: 'string', default: '6000' },
    parallel: { type: 'string', default: '8' },
    only: { type: 'string' },
    'warmup-ms': { type: 'string', default: '1000' },
  },
});

async function startTargets(): Promise<{ proc: Managed; ports: TargetPorts }> {
  const proc = startNode('targets', join(here, 'targets.js'), []);
  const [, json] = await proc.waitForLine(/^targets (\{.*\})$/, 10_000);
  return { proc, ports: JSON.parse(json) as TargetPorts };
}

interface ProbeRoute {
  route: Route;
  link: Managed | null;
  stop(): Promise<void>;
}

async function startRoute(kind: string, ports: TargetPorts): Promise<ProbeRoute> {
  const settings = linkFor(Number(values['rtt-ms']), Number(values['rate-bps']), Number(values['max-inflight-bytes']));
  if (kind === 'direct') return { route: { mode: 'direct' }, link: null, stop: async () => {} };
  if (kind === 'reference') {
    const reference = await startReferenceAcrossLink(LINK_SCRIPT, settings, [ports.sink, ports.source]);
    return { route: reference.route, link: reference.link.proc, stop: () => reference.stop() };
  }
  let link: Managed | null = null;
  const between = linkToRelay(LINK_SCRIPT, settings);
  const stack = await startStack({
    cli: cliPath(join(here, '..')),
    cpuProfileDir: null,
    label: 'wan-probe',
    between: async (relayPort) => {
      const middle = await between(relayPort);
      link = middle.proc;
      return middle;
    },
  });
  return { route: { mode: 'tunnel', socks: stack.socks }, link, stop: () => stack.stop() };
}

async function measure(route: Route, ports: TargetPorts, linkPid: number | null, direction: Direction, streams: number): Promise<void> {
  const cpu0 = linkPid === null ? null : readCpuSeconds(linkPid);
  const durationMs = Number(values['duration-ms']);
  const series = await sampledTransfers(route, direction === 'download' ? ports.source : ports.sink, direction, streams, { sampleMs: SAMPLE_MS, durationMs });
  const cpu1 = linkPid === null ? null : readCpuSeconds(linkPid);
  const cpu = cpu0 !== null && cpu1 !== null ? `; emulator CPU ${(((cpu1 - cpu0) * 1000) / durationMs * 100).toFixed(0)} % of a core` : '';
  process.stdout.write(`${streams} × ${direction}: ${describeRamp(rampFigures(sumSeries(series), WINDOWS))}${cpu}\n`);
  await sleep(SETTLE_MS);
}

async function main(): Promise<void> {
  installExitHandlers();
  const targets = await startTargets();
  const started = await startRoute(values.route!, targets.ports);
  process.stdout.write(`route ${values.route}, RTT ${values['rtt-ms']} ms, rate ${values['rate-bps']} B/s, bound ${values['max-inflight-bytes']} B\n`);
  try {
    const only = values.only;
    // A cold process reads slower for its first second or so: warm it up untimed, as the scenario does.
    const warmupMs = Number(values['warmup-ms']);
    if (warmupMs > 0) await sampledTransfers(started.route, targets.ports.source, 'download', 1, { sampleMs: SAMPLE_MS, durationMs: warmupMs });
    await sleep(SETTLE_MS);
    if (!only || only === 'download') await measure(started.route, targets.ports, started.link?.pid ?? null, 'download', 1);
    if (!only || only === 'upload') await measure(started.route, targets.ports, started.link?.pid ?? null, 'upload', 1);
    if (!only || only === 'parallel') await measure(started.route, targets.ports, started.link?.pid ?? null, 'download', Number(values.parallel));
  } finally {
    await started.stop();
    await targets.proc.stop();
    // The emulator prints its counters (in-flight peak, lateness) as it stops.
    const stats = started.link?.tail().split('\n').find((line) => line.startsWith('link-emulator stats'));
    if (stats) process.stdout.write(`${stats}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: Error) => {
    process.stderr.write(`wan-probe: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
