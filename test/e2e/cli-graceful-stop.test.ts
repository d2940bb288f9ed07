/**
 * SIGTERM on a relay process: it stops taking new streams, lets an open stream finish
 * within --grace, then exits 0; a stream still open when the grace runs out is cut.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CliProcess } from '../helpers/processes/cli-process.js';
import { LOOPBACK_ALLOW_FLAGS } from '../helpers/fixtures/loopback-rules.js';
import { rawSocks5Connect } from '../helpers/socks/socks-dial.js';
import { readBytes, waitClose } from '../helpers/io/socket-io.js';
import { startEchoTarget, type Target } from '../helpers/targets/targets.js';
import { REP_GENERAL_FAILURE, REP_SUCCEEDED } from '../helpers/socks/socks-replies.js';

const TOKEN = 'graceful-stop-token';
const START_WAIT_MS = 10_000;

describe('graceful stop of the relay', () => {
  let echo: Target;
  before(async () => {
    echo = await startEchoTarget();
  });
  after(async () => {
    await echo.close();
  });

  async function startStack(grace: string): Promise<{ relay: CliProcess; client: CliProcess; socksPort: number }> {
    const relay = new CliProcess(['relay', '--listen', '127.0.0.1:0', '--token', TOKEN, '--grace', grace, ...LOOPBACK_ALLOW_FLAGS]);
    const [, address] = await relay.waitFor(/relay listening address=(\S+)/, START_WAIT_MS);
    const client = new CliProcess(['client', '--socks', '127.0.0.1:0', '--relay', `ws://${address}/tunnel`, '--token', TOKEN, '--tunnel-wait', '1', '--fast-open', 'never']); // refusals as SOCKS replies
    const [, socks] = await client.waitFor(/SOCKS listening address=\S+:(\d+)/, START_WAIT_MS);
    await client.waitFor(/tunnel up/, START_WAIT_MS);
    return { relay, client, socksPort: Number(socks) };
  }

  test('an open stream keeps working through the grace period, new ones are refused, and the relay exits 0 once it closes', async () => {
    const { relay, client, socksPort } = await startStack('20');
    try {
      const open = await rawSocks5Connect(socksPort, echo.port);
      assert.equal(open.rep, REP_SUCCEEDED);
      relay.signal('SIGTERM');
      await relay.waitFor(/draining/, START_WAIT_MS);

      open.socket.write('after SIGTERM');
      assert.equal((await readBytes(open.socket, 13)).toString(), 'after SIGTERM', 'the open stream still echoes');
      const refused = await rawSocks5Connect(socksPort, echo.port);
      assert.equal(refused.rep, REP_GENERAL_FAILURE, 'a new stream is refused while draining');

      const started = Date.now();
      open.socket.end();
      const exit = await relay.waitExit(START_WAIT_MS);
      assert.deepEqual(exit, { code: 0, signal: null }, relay.output);
      assert.ok(Date.now() - started < 5_000, 'the relay exits soon after its last stream closes, not at the end of the grace');
    } finally {
      await relay.stop();
      await client.stop();
    }
  });

  test('a stream still open when the grace runs out is closed and the relay exits 0', async () => {
    const { relay, client, socksPort } = await startStack('0.5');
    try {
      const open = await rawSocks5Connect(socksPort, echo.port);
      assert.equal(open.rep, REP_SUCCEEDED);
      relay.signal('SIGTERM');
      const exit = await relay.waitExit(START_WAIT_MS);
      assert.deepEqual(exit, { code: 0, signal: null }, relay.output);
      assert.match(relay.output, /grace period over/);
      await waitClose(open.socket);
    } finally {
      await relay.stop();
      await client.stop();
    }
  });
});
