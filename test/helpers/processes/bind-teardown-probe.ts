/**
 * Child-process probe for bind.test.ts: a BIND is waiting for its peer when the tunnel
 * goes down. Run as its own process (SOCKBRIDGE_PROBE=bind-teardown) because a leaked
 * TCP handle would keep the test process alive forever; it prints one JSON line with what
 * the SOCKS client saw and the TCP handles still open after everything was closed, then
 * exits. Imported or run without the variable (as `node --test dist/test/` does) it does nothing.
 */
import { socksBind } from '../socks/socks-bind.js';
import { SocketReader } from '../io/socket-reader.js';
import { startPair } from '../tunnel/tunnel-pair.js';

export const BIND_TEARDOWN_PROBE = 'bind-teardown';
const SETTLE_MS = 300;

export interface BindTeardownReport {
  /** The socks package's error after the tunnel dropped (the second reply), or null. */
  error: string | null;
  /** The SOCKS connection closed. */
  closed: boolean;
  /** TCP handles (sockets and servers) still open once the pair, the BIND and its socket were closed. */
  leakedTcpHandles: number;
}

async function probe(): Promise<BindTeardownReport> {
  const pair = await startPair();
  const bind = await socksBind(pair.socksPort, 5, { host: '127.0.0.1', port: 20 });
  await bind.bound();
  const control = new SocketReader(bind.socket);
  for (const session of pair.relay.sessions) session.close(); // the tunnel drops under a waiting BIND
  let error: string | null = null;
  try {
    await bind.established();
  } catch (err) {
    error = (err as Error).message;
  }
  const closed = await control.waitClosed().then(() => true, () => false);
  bind.close();
  await pair.close();
  await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
  const leakedTcpHandles = process.getActiveResourcesInfo().filter((name) => name.startsWith('TCP')).length;
  return { error, closed, leakedTcpHandles };
}

if (process.env.SOCKBRIDGE_PROBE === BIND_TEARDOWN_PROBE) {
  probe().then(
    (report) => {
      process.stdout.write(`${JSON.stringify(report)}\n`);
      process.exit(0);
    },
    (err: Error) => {
      process.stderr.write(`${err.stack}\n`);
      process.exit(1);
    },
  );
}
