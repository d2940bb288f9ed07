/**
 * Two relay processes behind one HAProxy front, health-checked on each relay's admin
 * /healthz, as the README's "Several cores and several relays" shows. A client through the
 * front keeps working when the relay holding its tunnel is killed mid-run: the stream on it
 * ends, and new streams succeed within the keepalive bound.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { CliProcess } from '../helpers/processes/cli-process.js';
import { freePort, getJson, startClientProcess, STACK_TOKEN, type ClientProcess } from '../helpers/processes/cli-stack.js';
import { haproxyMissing, startHaproxy, type Haproxy } from '../helpers/processes/haproxy.js';
import { LOOPBACK_ALLOW_FLAGS } from '../helpers/fixtures/loopback-rules.js';
import { socksConnect } from '../helpers/socks/socks-dial.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';
import { readBytes, waitClose } from '../helpers/io/socket-io.js';
import { waitFor } from '../helpers/io/waiting.js';

/** The client's --keepalive-timeout: within it a dead relay must be noticed and the tunnel back. */
const KEEPALIVE_TIMEOUT_S = 5;
const WAIT_MS = 15_000;

const missing = haproxyMissing();
// Under CI a missing haproxy fails the run: the set-up the README documents must be tested there.
const skip = missing !== false && process.env.CI !== 'true' ? missing : false;
if (skip) console.log(`# ${skip}`);

interface RelayBehind {
  proc: CliProcess;
  port: number;
  adminPort: number;
}

async function startRelayBehind(): Promise<RelayBehind> {
  const [port, adminPort] = [await freePort(), await freePort()];
  const proc = new CliProcess(['relay', '--listen', `127.0.0.1:${port}`, '--admin-listen', `127.0.0.1:${adminPort}`, '--token', STACK_TOKEN, ...LOOPBACK_ALLOW_FLAGS, '--log-level', 'warn']);
  await waitFor(() => (proc.child.exitCode === null ? tunnelsOn({ proc, port, adminPort }).then(() => true) : Promise.reject(new Error(proc.output))), {
    what: 'the relay to answer /healthz',
    timeoutMs: WAIT_MS,
  });
  return { proc, port, adminPort };
}

/** The admin listener's /healthz: {"status":"ok","tunnels":N}. */
async function tunnelsOn(relay: RelayBehind): Promise<number> {
  return (await getJson<{ tunnels: number }>(relay.adminPort, '/healthz')).tunnels;
}

async function echoOnce(socksPort: number, targetPort: number, text: string): Promise<Socket> {
  const socket = await socksConnect(socksPort, targetPort);
  socket.on('error', () => {});
  socket.write(text);
  assert.equal((await readBytes(socket, text.length, WAIT_MS)).toString(), text);
  return socket;
}

describe('two relays behind haproxy', { skip, timeout: 90_000 }, () => {
  assert.equal(missing, false, `CI=true: ${missing}`);
  let target: Target;
  const relays: RelayBehind[] = [];
  let front: Haproxy | undefined;
  let client: ClientProcess | undefined;
  before(async () => {
    target = await startEchoTarget();
    relays.push(await startRelayBehind(), await startRelayBehind());
    front = await startHaproxy(relays);
    client = await startClientProcess(`ws://127.0.0.1:${front.port}/tunnel`, ['--keepalive-interval', '2', '--keepalive-timeout', String(KEEPALIVE_TIMEOUT_S)]);
  });
  after(async () => {
    await client?.proc.stop();
    await front?.stop();
    for (const relay of relays) await relay.proc.stop();
    await target?.close();
  });

  test('a relay killed mid-run: its streams end, new streams succeed within the keepalive bound', async (t) => {
    const socksPort = client!.socksPort;
    const holder = await waitFor(
      async () => {
        const counts = await Promise.all(relays.map(tunnelsOn));
        return counts[0]! + counts[1]! === 1 ? relays[counts.indexOf(1)] : undefined;
      },
      { what: () => `the tunnel on one relay:\n${front!.output}`, timeoutMs: WAIT_MS },
    );
    const survivor = relays.find((relay) => relay !== holder)!;
    const stream = await echoOnce(socksPort, target.port, 'before the kill');
    holder.proc.child.kill('SIGKILL');
    const killedAt = Date.now();
    await waitClose(stream, WAIT_MS);
    const socket = await waitFor(() => echoOnce(socksPort, target.port, 'after the kill').catch(() => undefined), {
      what: () => `a new stream through the other relay:\n${client!.proc.output}\n${front!.output}`,
      timeoutMs: WAIT_MS,
      intervalMs: 100,
    });
    const elapsedMs = Date.now() - killedAt;
    socket.destroy();
    t.diagnostic(`first new stream ${elapsedMs} ms after the kill`);
    assert.ok(elapsedMs < KEEPALIVE_TIMEOUT_S * 1000, `new streams after ${elapsedMs} ms, keepalive bound ${KEEPALIVE_TIMEOUT_S} s`);
    assert.equal(await tunnelsOn(survivor), 1);
    for (let i = 0; i < 5; i++) (await echoOnce(socksPort, target.port, `stream ${i}`)).destroy();
  });
});
