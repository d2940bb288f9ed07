/**
 * `npm run bench`: every figure direct over loopback and through client + relay, in one
 * run, as a table with each figure's target from plan.ts. Processes: this runner, one
 * target-server process, a fresh relay + client pair per scenario, and a fresh load
 * generator per run.
 *
 * Environment: BENCH_ONLY=1,4 runs only those figures; BENCH_CPU_PROF=DIR writes
 * --cpu-prof profiles of every relay and client into DIR.
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TargetPorts } from './messages.js';
import { PLANS, type ScenarioPlan } from './plan.js';
import { loadAverage, sampleMachineLoad } from './machine.js';
import { installExitHandlers, startNode, type Managed } from './processes.js';
import { buildReport, type PlanOutcome } from './report.js';
import { runScenario, type RunOptions, type RunOutcome, type WindowsReached } from './runner.js';
import type { Route } from './route.js';
import { cliPath, startStack, type Stack, type StackMiddle } from './stack.js';
import { startForwarderChain, startSocksChain } from './forwarder-chain.js';
import { makeBenchCert } from './tls-cert.js';
import { startNaiveTunnel } from './naive-route.js';
import { findV2ray, startV2rayMux, V2RAY_MISSING, type V2rayBinary } from './v2ray.js';
import { linkToRelay, startReferenceAcrossLink } from './wan-routes.js';
import { renderTable } from './table.js';
import { mergeRounds } from './rounds.js';
import { mergeBulkResults, type BulkResult } from './scenarios/bulk.js';
import { mergeLatencyResults, type LatencyResult } from './scenarios/latency.js';

const here = dirname(fileURLToPath(import.meta.url));
const distDir = join(here, '..');
const LOADGEN = join(here, 'loadgen.js');
const TARGETS = join(here, 'targets.js');
const FORWARDER = join(here, 'forwarder.js');
const SOCKS_FORWARDER = join(here, 'socks-forwarder.js');
const NAIVE_TUNNEL = join(here, 'naive-tunnel.js');
const LINK_EMULATOR = join(here, 'link-emulator.js');
const TARGETS_START_MS = 10_000;
const QUIET_SAMPLE_MS = 1_000;
/** Above this share of all CPUs busy before we start, the report carries a warning. */
const QUIET_BUSY_SHARE = 0.15;
const started = Date.now();

function log(text: string): void {
  const elapsed = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[${elapsed}s] ${text}\n`);
}

/** The soft open-file limit this process runs with (children inherit it). */
function openFileLimit(): number {
  try {
    const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return !match ? NaN : match[1] === 'unlimited' ? Infinity : Number(match[1]);
  } catch {
    return NaN;
  }
}

async function startTargets(): Promise<{ proc: Managed; ports: TargetPorts }> {
  const proc = startNode('targets', TARGETS, []);
  const [, json] = await proc.waitForLine(/^targets (\{.*\})$/, TARGETS_START_MS);
  return { proc, ports: JSON.parse(json) as TargetPorts };
}

async function runPlan(plan: ScenarioPlan, ports: TargetPorts): Promise<PlanOutcome> {
  const limit = openFileLimit();
  if (plan.needsOpenFiles && !(limit >= plan.needsOpenFiles)) {
    const skipped = `open-file limit is ${limit}, the scenario needs ${plan.needsOpenFiles} (raise ulimit -n)`;
    log(`#${plan.id} ${plan.title}: SKIPPED: ${skipped}`);
    return { plan, direct: null, tunnel: null, reference: null, skipped };
  }
  const common = { loadgenScript: LOADGEN, scenario: plan.scenario, ports, params: plan.params, timeoutMs: plan.timeoutMs };
  const { link } = plan;
  if (link) {
    // Across a link the yardstick is plain TCP over the same link, not loopback: it takes the direct column.
    const acrossLink = await runThrough(plan, 'reference across the link', common, 'the link emulator', async () => {
      const reference = await startReferenceAcrossLink(LINK_EMULATOR, link, [ports.echo, ports.sink, ports.source]);
      return { route: reference.route, stack: null, stop: () => reference.stop() };
    });
    const tunnel = await runThrough(plan, 'tunnel', common, 'relay + link + client', async () => {
      const stack = await startStack({ cli: cliPath(distDir), cpuProfileDir: null, label: `${plan.id}-${plan.scenario}`, between: linkToRelay(LINK_EMULATOR, link), clientArgs: plan.clientArgs });
      return { route: { mode: 'tunnel', socks: stack.socks }, stack, stop: () => stack.stop() };
    });
    const v2ray = plan.withV2ray ? await runThrough(plan, 'v2ray mux', common, 'v2ray', () => startV2rayRoute(linkToRelay(LINK_EMULATOR, link))) : null;
    return { plan, direct: acrossLink, tunnel, reference: null, v2ray, skipped: null };
  }
  const cpuProfileDir = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : null;
  const startTunnel = async (workers: number | null): Promise<StartedRoute> => {
    const tls = plan.tls ? await makeBenchCert() : undefined;
    // --workers 1 is the default: the relay as one process, no primary.
    const relayArgs = workers !== null && workers > 1 ? ['--workers', String(workers)] : [];
    try {
      const stack = await startStack({ cli: cliPath(distDir), cpuProfileDir, label: `${plan.id}-${plan.scenario}-w${workers ?? 1}`, clientArgs: plan.clientArgs, tls, relayArgs, clients: plan.clients, spareRelay: plan.spareRelay });
      return { route: { mode: 'tunnel', socks: stack.socks, socksAlso: stack.moreSocks }, stack, stop: () => stack.stop().finally(() => tls?.remove()) };
    } catch (err) {
      await tls?.remove();
      throw err;
    }
  };
  const direct: RouteStarter = { name: 'direct', label: 'direct', whatStarts: 'nothing', start: async () => ({ route: { mode: 'direct' }, stack: null, stop: async () => {} }) };
  if (plan.relayWorkers) {
    // Figure 14: the tunnel once per --workers count; the first fills the tunnel column.
    const directOutcome = (await runRoutes(plan, common, [direct], 1)).get('direct') ?? null;
    const byWorkers: { workers: number; outcome: RunOutcome }[] = [];
    for (const workers of plan.relayWorkers) {
      byWorkers.push({ workers, outcome: await runThrough(plan, `tunnel, relay --workers ${workers}`, common, 'relay + client', () => startTunnel(workers)) });
    }
    return { plan, direct: directOutcome, tunnel: byWorkers[0]?.outcome ?? null, reference: null, byWorkers, skipped: null };
  }
  const starters: RouteStarter[] = [direct, { name: 'tunnel', label: 'tunnel', whatStarts: 'relay + client', start: () => startTunnel(null) }];
  // The same scenario through two plain forwarders: what any two-process Node relay costs at least.
  if (plan.withReference) {
    starters.push({
      name: 'reference',
      label: 'reference',
      whatStarts: 'the forwarders',
      start: async () => {
        const chain = await startForwarderChain(FORWARDER, [ports.echo, ports.sink, ports.source]);
        return { route: { mode: 'forwarded', entries: chain.entries }, stack: null, stop: () => chain.stop() };
      },
    });
  }
  // The same through a SOCKS5 front and one forwarder: the floor with the handshake the load generator waits for.
  if (plan.withSocksReference) {
    starters.push({
      name: 'socksReference',
      label: 'SOCKS reference',
      whatStarts: 'the SOCKS chain',
      start: async () => {
        const chain = await startSocksChain(FORWARDER, SOCKS_FORWARDER, [ports.echo, ports.sink, ports.source]);
        return { route: { mode: 'tunnel', socks: chain.socks }, stack: null, stop: () => chain.stop() };
      },
    });
  }
  if (plan.withNaiveTunnel) {
    starters.push({
      name: 'naive',
      label: 'naive tunnel',
      whatStarts: 'the naive tunnel',
      start: async () => {
        const naiveTunnel = await startNaiveTunnel(NAIVE_TUNNEL);
        return { route: { mode: 'tunnel', socks: naiveTunnel.socks }, stack: null, stop: () => naiveTunnel.stop() };
      },
    });
  }
  if (plan.withV2ray) {
    starters.push({
      name: 'v2ray',
      label: 'v2ray mux',
      whatStarts: 'v2ray',
      start: () => startV2rayRoute(),
    });
  }
  const outcome = await runRoutes(plan, common, starters, plan.rounds ?? 1);
  const of = (name: ComparedRoute): RunOutcome | null => outcome.get(name) ?? null;
  return { plan, direct: of('direct'), tunnel: of('tunnel'), reference: of('reference'), socksReference: of('socksReference'), naive: of('naive'), v2ray: of('v2ray'), skipped: null };
}

/** A route of a compared figure: how to start its processes (direct starts none). */
interface RouteStarter {
  name: ComparedRoute;
  label: string;
  whatStarts: string;
  start(): Promise<StartedRoute>;
}

/**
 * Starts every route's processes, runs the scenario through each in turn, `rounds` times
 * (rounds.ts: the machine's slow stretches then fall on every route alike, and every
 * process stays warm), stops them all, and merges each route's rounds.
 */
async function runRoutes(plan: ScenarioPlan, common: CommonRun, starters: readonly RouteStarter[], rounds: number): Promise<Map<ComparedRoute, RunOutcome>> {
  const started: Array<StartedRoute | string> = [];
  const outcomes: RunOutcome[][] = starters.map(() => []);
  try {
    for (const starter of starters) {
      const route = await starter.start().catch((err: Error) => `could not start ${starter.whatStarts}: ${err.message}`);
      // Said once: every round of a route that did not start fails alike.
      if (typeof route === 'string') log(`#${plan.id} ${plan.title}: ${starter.label}: FAILED: ${route}`);
      started.push(route);
    }
    for (let round = 1; round <= rounds; round++) {
      for (let i = 0; i < starters.length; i++) {
        const route = started[i]!;
        const label = rounds > 1 ? `${starters[i]!.label}, round ${round} of ${rounds}` : starters[i]!.label;
        outcomes[i]!.push(typeof route === 'string' ? { ok: false, reason: route, seconds: 0 } : await runOn(plan, common, label, route));
      }
    }
  } finally {
    for (const route of started) if (typeof route !== 'string') await route.stop();
  }
  return new Map(
    starters.map((starter, i): [ComparedRoute, RunOutcome] => {
      const route = started[i];
      const outcome = mergeRounds(outcomes[i]!, (results) => mergeResultsOf(plan, results));
      // The stack's closing log lines, read once it has stopped, say how far its windows grew.
      const stack = typeof route === 'string' ? null : (route?.stack ?? null);
      return [starter.name, outcome.ok && stack ? { ...outcome, windows: windowsReached(stack) } : outcome];
    }),
  );
}

/** One run of the scenario through a started route. */
async function runOn(plan: ScenarioPlan, common: CommonRun, label: string, route: StartedRoute): Promise<RunOutcome> {
  log(`#${plan.id} ${plan.title}: ${label}`);
  const outcome = await runScenario({ ...common, route: route.route, stack: route.stack, progress: (t) => log(`  #${plan.id} ${label}: ${t}`) });
  logOutcome(plan, label, outcome);
  return outcome;
}

/** The routes a figure may be compared across, by their PlanOutcome names. */
type ComparedRoute = 'direct' | 'tunnel' | 'reference' | 'socksReference' | 'naive' | 'v2ray';

/** Bulk transfers (figures 1, 1s) and connect latency (figure 2) run in rounds; a plan giving another scenario rounds is a mistake. */
function mergeResultsOf(plan: ScenarioPlan, results: unknown[]): unknown {
  if (plan.scenario === 'bulk') return mergeBulkResults(results as BulkResult[]);
  if (plan.scenario === 'latency') return mergeLatencyResults(results as LatencyResult[]);
  throw new Error(`plan #${plan.id}: the ${plan.scenario} scenario cannot run in rounds`);
}

let v2rayBinary: Promise<V2rayBinary | null> | null = null;

/** V2Ray with mux.cool (`between`: across the link); without a v2ray binary, the error says what to install. */
async function startV2rayRoute(between?: (port: number) => Promise<StackMiddle>): Promise<StartedRoute> {
  const binary = await (v2rayBinary ??= findV2ray());
  if (!binary) throw new Error(V2RAY_MISSING);
  const v2ray = await startV2rayMux(binary, between);
  return { route: { mode: 'tunnel', socks: v2ray.socks }, stack: null, stop: () => v2ray.stop() };
}

/** What every run of one plan shares, whichever route it goes through. */
type CommonRun = Omit<RunOptions, 'route' | 'stack' | 'progress'>;

/** A route that needs processes of its own: the route, the relay + client under test (or null), and how to stop them. */
interface StartedRoute {
  route: Route;
  stack: Stack | null;
  stop(): Promise<void>;
}

/** Starts a route's processes, runs the scenario through them once and stops them; a failed start is a failed run. */
async function runThrough(
  plan: ScenarioPlan,
  label: string,
  common: CommonRun,
  whatStarts: string,
  start: () => Promise<StartedRoute>,
): Promise<RunOutcome> {
  const outcomes = await runRoutes(plan, common, [{ name: 'tunnel', label, whatStarts, start }], 1);
  return outcomes.get('tunnel')!;
}

/** The relay's 'tunnel closed' and the client's 'tunnel down' lines say how far the tunnel's windows grew. */
function windowsReached(stack: Stack): WindowsReached {
  const largest = (tail: string): number | null => {
    const values = [...tail.matchAll(/largestWindow=(\d+)/g)].map((match) => Number(match[1]));
    return values.length > 0 ? Math.max(...values) : null;
  };
  return { relay: largest(stack.relay.tail()), client: largest(stack.client.tail()) };
}

function logOutcome(plan: ScenarioPlan, mode: string, outcome: RunOutcome): void {
  if (outcome.ok) log(`  #${plan.id} ${mode}: done in ${outcome.seconds.toFixed(1)} s`);
  else log(`  #${plan.id} ${mode}: FAILED: ${outcome.reason}`);
}

async function main(): Promise<number> {
  installExitHandlers();
  const only = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((s) => s.trim())) : null;
  log(`sockbridge bench: node ${process.version}, ${cpus().length} CPUs, open-file limit ${openFileLimit()}`);
  const loadAtStart = loadAverage();
  const load = await sampleMachineLoad(QUIET_SAMPLE_MS, [process.pid]);
  const loadLine = `machine ${(load.busy * 100).toFixed(0)} % busy over ${QUIET_SAMPLE_MS} ms before the bench`;
  log(loadLine);
  const warnings: string[] = [];
  if (load.busy > QUIET_BUSY_SHARE) {
    const hogs = load.hogs.length > 0 ? load.hogs.map((h) => `  ${h}`) : ['  (none stood out: many short-lived ones)'];
    warnings.push(`WARNING: ${loadLine}; figures will be noisy. Busy processes not ours:`, ...hogs);
    for (const line of warnings) log(line);
  }
  let targets = await startTargets();
  log(`targets: echo :${targets.ports.echo}, sink :${targets.ports.sink}, source :${targets.ports.source}, udp echo :${targets.ports.udpEcho}`);
  const outcomes: PlanOutcome[] = [];
  for (const plan of PLANS) {
    if (only && !only.has(plan.id)) continue;
    if (!targets.proc.isAlive()) {
      log(`target servers died (${targets.proc.tail().split('\n').slice(-2).join(' | ')}); restarting them`);
      targets = await startTargets();
    }
    outcomes.push(await runPlan(plan, targets.ports));
  }
  await targets.proc.stop();

  const report = buildReport(outcomes);
  const out = [
    '',
    `sockbridge bench — ${new Date().toISOString()} — node ${process.version}, ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}`,
    'Direct: the load generator talks to the target over loopback. Tunnel: through the sockbridge client (SOCKS5) and relay.',
    'MB/s = 10^6 bytes per second. Every process (load generator, client, relay, targets) is separate.',
    'Reference (#1-#3, in the notes): two plain Node TCP forwarders in series, each its own process: the least any relay of two Node processes costs. #2 also through a SOCKS5 front and one forwarder: that least with the SOCKS handshake.',
    `1-minute load average: ${loadAtStart} at the start, ${loadAverage()} at the end (${cpus().length} CPUs; above that, other work competes).`,
    '',
    renderTable(report.rows),
    '',
    ...warnings,
    ...(report.notes.length > 0 ? ['Notes:', ...report.notes.map((n) => `  ${n}`)] : []),
    `Total time ${((Date.now() - started) / 1000).toFixed(0)} s.`,
    '',
  ];
  process.stdout.write(out.join('\n'));
  return report.anyFailed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
