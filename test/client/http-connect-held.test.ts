/**
 * CONNECT while the outbound is still opening, with a Connector that answers only when the
 * test says (the real one answers within a loopback round trip, too fast to act in): bytes
 * sent meanwhile reach the tunnel after the early ones and in order, and a client that gives
 * up aborts the connect. Real sockets on 127.0.0.1; http.Server parses as in the client.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../common/log.js';
import { createHttpProxy } from '../../client/http/proxy-server.js';
import type { ConnectOutcome, ConnectRequest, Connector } from '../../client/outbound/connector.js';
import { Route } from '../../client/outbound/route.js';
import type { HttpAcceptor } from '../../client/socks/server.js';
import { connectTcp, readBytes, waitClose } from '../helpers/io/socket-io.js';
import { waitFor } from '../helpers/io/waiting.js';

const ESTABLISHED = 'HTTP/1.1 200 Connection established\r\n\r\n';

/** A Connector whose outcomes wait for settle(); join echoes what the tunnel then reads. */
class HeldConnector {
  readonly requests: ConnectRequest[] = [];
  private pending: Array<() => void> = [];

  connect(request: ConnectRequest): Promise<ConnectOutcome> {
    this.requests.push(request);
    return new Promise((resolve) => {
      this.pending.push(() =>
        resolve({
          ok: true,
          bound: { host: '0.0.0.0', port: 0 },
          route: Route.Relay,
          join(socket: Socket) {
            socket.on('data', (chunk: Buffer) => socket.write(chunk));
            // The port is allowHalfOpen: without this end, a client's FIN would leave the
            // socket open with nothing reading it, and server.close() in after() would never return.
            socket.on('end', () => socket.end());
            socket.on('error', () => socket.destroy());
            socket.resume();
          },
          asDuplex: () => new PassThrough(),
        }),
      );
    });
  }

  settle(): void {
    for (const resolve of this.pending.splice(0)) resolve();
  }
}

describe('CONNECT while the outbound opens', () => {
  let server: Server;
  let proxy: HttpAcceptor;
  let connector: HeldConnector;
  let port: number;

  before(async () => {
    connector = new HeldConnector();
    proxy = createHttpProxy({
      connector: connector as unknown as Connector,
      proxyUser: null,
      handshakeTimeoutMs: 5_000,
      pacRules: () => [],
      logger: createLogger('test', 'silent'),
    });
    server = createServer({ allowHalfOpen: true }, (socket) => proxy.accept(socket, 5_000));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    proxy.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('bytes sent before the 200 follow the early bytes into the tunnel, in order', async () => {
    const socket = await connectTcp(port);
    try {
      socket.write('CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\nearly,');
      await waitFor(() => connector.requests.length === 1, { what: 'the connect' });
      socket.write('held,');
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.write('also held');
      await new Promise((resolve) => setTimeout(resolve, 50));
      connector.settle();
      const answer = await readBytes(socket, ESTABLISHED.length + 'held,also held'.length);
      assert.equal(answer.toString('latin1'), `${ESTABLISHED}held,also held`);
      assert.equal(connector.requests[0].early.toString('latin1'), 'early,');
      assert.deepEqual(connector.requests[0].target, { host: 'example.test', port: 443 });
    } finally {
      socket.destroy();
      connector.requests.length = 0;
    }
  });

  test('a client that gives up (FIN) before the 200 aborts the connect', async () => {
    const socket = await connectTcp(port);
    try {
      socket.write('CONNECT example.test:443 HTTP/1.1\r\nHost: example.test:443\r\n\r\n');
      await waitFor(() => connector.requests.length === 1, { what: 'the connect' });
      const { signal } = connector.requests[0];
      assert.equal(signal?.aborted, false);
      socket.end();
      await waitFor(() => signal?.aborted === true, { what: 'the connect to be aborted' });
      connector.settle();
      await waitClose(socket);
    } finally {
      socket.destroy();
      connector.requests.length = 0;
    }
  });
});
