/**
 * The client's WebSocket masking key, read off the wire by a hand-written relay that takes the
 * upgrade and decodes the first frame (the client's HELLO): all zeros inside TLS (wss://),
 * where RFC 6455 §10.3's attack needs a cleartext intermediary that cannot be there, and
 * random over plain ws://.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { startClient, type Client } from '../../client/client.js';
import { createLogger } from '../../common/log.js';
import { makeSelfSignedCert, opensslMissing, type TestCert } from '../helpers/fixtures/self-signed-cert.js';
import { withTimeout } from '../helpers/io/waiting.js';

/** RFC 6455 §1.3: the GUID the accept key is derived with. */
const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MASK_BIT = 0x80;
const HELLO_FRAME_TYPE = 0x00;

interface FirstFrame {
  masked: boolean;
  maskingKey: Buffer;
  /** The first payload byte, unmasked: the sockbridge frame type. */
  frameType: number;
}

/** Accepts one WebSocket upgrade by hand and resolves with what the client's first frame carried. */
function firstFrameOf(server: Server): Promise<FirstFrame> {
  return new Promise((resolve) => {
    server.once('upgrade', (req: IncomingMessage, socket: Duplex) => {
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}${WEBSOCKET_GUID}`).digest('base64');
      socket.write(
        'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
          `Sec-WebSocket-Accept: ${accept}\r\nSec-WebSocket-Protocol: ${req.headers['sec-websocket-protocol']?.split(',')[0].trim()}\r\n\r\n`,
      );
      let bytes = Buffer.alloc(0);
      socket.on('data', (chunk: Buffer) => {
        bytes = Buffer.concat([bytes, chunk]);
        if (bytes.length < 7) return; // 2 header bytes, a 4-byte key, the first payload byte (HELLO is short)
        socket.destroy();
        const maskingKey = bytes.subarray(2, 6);
        resolve({ masked: (bytes[1] & MASK_BIT) !== 0, maskingKey: Buffer.from(maskingKey), frameType: bytes[6] ^ maskingKey[0] });
      });
      socket.on('error', () => {});
    });
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

async function clientFor(relayUrl: string, ca: Buffer | null): Promise<Client> {
  return startClient({ relayUrl, token: 'masking-test-token', socks: { host: '127.0.0.1', port: 0 }, ca, logger: createLogger('client', 'silent') });
}

const skipTls = opensslMissing();

describe('the masking key of client frames', () => {
  let cert: TestCert | null = null;
  before(async () => {
    if (!skipTls) cert = await makeSelfSignedCert();
  });
  after(async () => {
    await cert?.remove();
  });

  it('is all zeros over wss://: nothing is masked inside TLS', { skip: skipTls }, async () => {
    const server = createHttpsServer({ cert: cert!.cert, key: cert!.key });
    const port = await listen(server);
    const frame = firstFrameOf(server);
    const client = await clientFor(`wss://127.0.0.1:${port}/tunnel`, cert!.cert);
    try {
      const { masked, maskingKey, frameType } = await withTimeout(frame, { what: "the client's first frame" });
      assert.equal(masked, true, 'the MASK bit stays set, as RFC 6455 requires of clients');
      assert.equal(maskingKey.toString('hex'), '00000000');
      assert.equal(frameType, HELLO_FRAME_TYPE, 'the frame is the HELLO');
    } finally {
      await client.close();
      server.closeAllConnections();
      server.close();
    }
  });

  it('is random over plain ws://', async () => {
    const server = createHttpServer();
    const port = await listen(server);
    const frame = firstFrameOf(server);
    const client = await clientFor(`ws://127.0.0.1:${port}/tunnel`, null);
    try {
      const { masked, maskingKey, frameType } = await withTimeout(frame, { what: "the client's first frame" });
      assert.equal(masked, true);
      assert.notEqual(maskingKey.toString('hex'), '00000000', 'a random key (all zeros by chance: one in 2^32)');
      assert.equal(frameType, HELLO_FRAME_TYPE);
    } finally {
      await client.close();
      server.closeAllConnections();
      server.close();
    }
  });
});
