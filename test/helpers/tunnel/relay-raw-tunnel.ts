/**
 * An authenticated tunnel WebSocket to a real relay with no Session on our side: the test
 * sends frames (or non-frames) by hand and sees every frame the relay sends and how it closed.
 */
import WebSocket from 'ws';
import { decodeFrame, encodeHello } from '../../../protocol/codec.js';
import { FrameType, WS_SUBPROTOCOL, type Frame } from '../../../protocol/frame.js';
import { Waiters, withTimeout } from '../io/waiting.js';

const WAIT_MS = 5_000;

export class RawTunnel {
  readonly frames: Frame[] = [];
  /** Set once the WebSocket closed: the close code the relay sent (1006 when none). */
  closeCode: number | null = null;
  private readonly waiters = new Waiters();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) this.frames.push(decodeFrame(data as Buffer));
      this.waiters.wake();
    });
    ws.on('error', () => {}); // 'close' follows
    ws.on('close', (code) => {
      this.closeCode = code;
      this.waiters.wake();
    });
  }

  /** Opens /tunnel with a bearer token and completes HELLO (the short form unless `hello` is given). */
  static async open(url: string, token: string, hello: Buffer = encodeHello(1, 1)): Promise<RawTunnel> {
    // No maxPayload limit on our side: we are the one sending oversized messages.
    const ws = new WebSocket(url, [WS_SUBPROTOCOL], { headers: { Authorization: `Bearer ${token}` }, perMessageDeflate: false });
    const tunnel = new RawTunnel(ws);
    const upgraded = new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('unexpected-response', (_req, res) => reject(new Error(`tunnel upgrade answered ${res.statusCode}`)));
    });
    await withTimeout(upgraded, { what: 'the tunnel upgrade', timeoutMs: WAIT_MS });
    ws.send(hello);
    await tunnel.until(() => tunnel.frames.some((frame) => frame.type === FrameType.Hello), "the relay's HELLO");
    return tunnel;
  }

  get closed(): boolean {
    return this.closeCode !== null;
  }

  until(condition: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
    const state = (): string => `frames: ${JSON.stringify(this.frames.map((f) => f.type))}, close ${this.closeCode}`;
    return this.waiters.until(condition, { what: () => `${what}; ${state()}`, timeoutMs });
  }

  terminate(): void {
    this.ws.terminate();
  }
}
