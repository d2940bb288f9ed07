/**
 * Figure 8: BIND setup time, sequentially. Tunnel: on a greeted SOCKS5 connection, a BIND
 * for 0.0.0.0:0 is sent; timed until the first reply (the relay is listening) and until
 * the second reply, after an "application server" (a plain TCP client here) connected to
 * the announced address. Direct: the same two steps without a proxy — a net.Server
 * listens on loopback (first time), then a client connects and the server accepts it
 * (second time). Each round then checks one byte from the application server arrives.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ScenarioContext } from '../messages.js';
import { connectTcp, readExactly, withTimeout } from '../net-io.js';
import { TARGET_HOST } from '../route.js';
import { readReply, sendBindRequest, socks5Greet, type HostPort } from '../socks5.js';
import { percentiles, type Percentiles } from '../stats.js';
import { runSequentialTrials } from './sequential-trials.js';

export interface BindParams {
  count: number;
  warmup: number;
  /** Stop early (and say so) past this much wall time. */
  capMs: number;
  perBindTimeoutMs: number;
}

export interface BindResult {
  attempted: number;
  completed: number;
  failures: number;
  listen: Percentiles;
  accept: Percentiles;
  errors: string;
}

interface Timing {
  /** Request (listen()) until the first reply (listening). */
  listenMs: number;
  /** Request (listen()) until the second reply (peer accepted). */
  acceptMs: number;
}

const ANY: HostPort = { host: '0.0.0.0', port: 0 };
const PROBE = Buffer.from([0x62]);
const PROGRESS_EVERY = 50;

export async function runBind(ctx: ScenarioContext, params: BindParams): Promise<BindResult> {
  const once = ctx.route.mode === 'direct' ? directBind : (timeoutMs: number) => tunnelBind(ctx, timeoutMs);
  const { results, attempted, errors } = await runSequentialTrials(params, () => once(params.perBindTimeoutMs), (done) => {
    if (done % PROGRESS_EVERY === 0) ctx.progress(`${done}/${params.count} BINDs`);
  });
  const listen = results.map((timing) => timing.listenMs);
  const accept = results.map((timing) => timing.acceptMs);
  // Nothing to time: that is a broken path, not a slow one.
  if (attempted > 0 && listen.length === 0) throw new Error(`none of ${attempted} BINDs completed: ${errors.summary()}`);
  return {
    attempted,
    completed: listen.length,
    failures: errors.count + (params.count - attempted),
    listen: percentiles(listen),
    accept: percentiles(accept),
    errors: errors.summary(),
  };
}

async function tunnelBind(ctx: ScenarioContext, timeoutMs: number): Promise<Timing> {
  if (!ctx.route.socks) throw new Error('tunnel route without a SOCKS address');
  const deadline = performance.now() + timeoutMs;
  const left = (): number => Math.max(1, Math.ceil(deadline - performance.now()));
  const control = await socks5Greet(ctx.route.socks, left());
  let app: Socket | null = null;
  try {
    const t0 = performance.now();
    sendBindRequest(control, ANY);
    const announced = await readReply(control, left());
    const t1 = performance.now();
    // The relay announces where it listens; an unspecified address means "where you reached me".
    const host = announced.host === '0.0.0.0' || announced.host === '::' ? TARGET_HOST : announced.host;
    const connecting = connectTcp(host, announced.port, left()).then((socket) => (app = socket));
    await Promise.all([connecting, readReply(control, left())]);
    const t2 = performance.now();
    app!.write(PROBE);
    await readExactly(control, PROBE.length, left());
    return { listenMs: t1 - t0, acceptMs: t2 - t0 };
  } finally {
    control.destroy();
    (app as Socket | null)?.destroy();
  }
}

async function directBind(timeoutMs: number): Promise<Timing> {
  const deadline = performance.now() + timeoutMs;
  const left = (): number => Math.max(1, Math.ceil(deadline - performance.now()));
  const server: Server = createServer({ noDelay: true });
  let client: Socket | null = null;
  let peer: Socket | null = null;
  try {
    const t0 = performance.now();
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: TARGET_HOST, port: 0 }, () => resolve());
      }),
      left(),
      'listen',
    );
    const t1 = performance.now();
    const { port } = server.address() as AddressInfo;
    const accepted = withTimeout(new Promise<Socket>((resolve) => server.once('connection', resolve)), left(), 'accept').then((s) => (peer = s));
    const connecting = connectTcp(TARGET_HOST, port, left()).then((s) => (client = s));
    await Promise.all([accepted, connecting]);
    const t2 = performance.now();
    client!.write(PROBE);
    await readExactly(peer!, PROBE.length, left());
    return { listenMs: t1 - t0, acceptMs: t2 - t0 };
  } finally {
    (client as Socket | null)?.destroy();
    (peer as Socket | null)?.destroy();
    server.close();
  }
}
