/**
 * A raw Wisp peer for the byte-level tests: a plain `ws` client that sends packets made by
 * its own small encoder (not the relay's codec, so a codec bug cannot hide in both) and
 * keeps every packet it receives, decoded by hand.
 */
import WebSocket from 'ws';
import { withTimeout } from '../io/waiting.js';

export const PACKET = { Connect: 0x01, Data: 0x02, Continue: 0x03, Close: 0x04 } as const;

export interface ReceivedPacket {
  type: number;
  streamId: number;
  payload: Buffer;
}

export function packet(type: number, streamId: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(type, 0);
  header.writeUInt32LE(streamId, 1);
  return Buffer.concat([header, payload]);
}

export function connectPacket(streamId: number, host: string, port: number, streamType = 0x01): Buffer {
  const fixed = Buffer.alloc(3);
  fixed.writeUInt8(streamType, 0);
  fixed.writeUInt16LE(port, 1);
  return packet(PACKET.Connect, streamId, Buffer.concat([fixed, Buffer.from(host, 'utf8')]));
}

export const dataPacket = (streamId: number, data: Uint8Array): Buffer => packet(PACKET.Data, streamId, data);
export const closePacket = (streamId: number, reason: number): Buffer => packet(PACKET.Close, streamId, Buffer.from([reason]));

export class WispPeer {
  readonly received: ReceivedPacket[] = [];
  closeCode: number | null = null;
  private listeners: Array<() => void> = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.received.push({ type: data.readUInt8(0), streamId: data.readUInt32LE(1), payload: Buffer.from(data.subarray(5)) });
      this.wake();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.wake();
    });
    ws.on('error', () => {});
  }

  /** Opens the WebSocket; rejects with the HTTP status when the upgrade is refused. */
  static open(url: string, protocols?: string[]): Promise<WispPeer> {
    const ws = new WebSocket(url, protocols);
    return withTimeout(
      new Promise<WispPeer>((resolve, reject) => {
        const peer = new WispPeer(ws);
        ws.once('open', () => resolve(peer));
        ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
        ws.once('error', reject);
      }),
      { what: `the Wisp upgrade to ${url}` },
    );
  }

  send(...packets: Buffer[]): void {
    for (const bytes of packets) this.ws.send(bytes);
  }

  /** The first received packet matching, waiting for it. */
  next(match: (p: ReceivedPacket) => boolean, what: string, timeoutMs = 10_000): Promise<ReceivedPacket> {
    return withTimeout(
      new Promise<ReceivedPacket>((resolve, reject) => {
        const check = (): boolean => {
          const found = this.received.find(match);
          if (found) resolve(found);
          else if (this.closeCode !== null) reject(new Error(`closed (${this.closeCode}) before ${what}`));
          else return false;
          return true;
        };
        if (!check()) this.listeners.push(() => void check());
      }),
      { what, timeoutMs },
    );
  }

  closeOf(streamId: number): Promise<number> {
    return this.next((p) => p.type === PACKET.Close && p.streamId === streamId, `CLOSE for stream ${streamId}`).then((p) => p.payload.readUInt8(0));
  }

  /** Every DATA byte received on `streamId` so far. */
  dataOf(streamId: number): Buffer {
    return Buffer.concat(this.received.filter((p) => p.type === PACKET.Data && p.streamId === streamId).map((p) => p.payload));
  }

  waitClosed(): Promise<number> {
    return withTimeout(
      new Promise<number>((resolve) => {
        const check = (): boolean => (this.closeCode === null ? false : (resolve(this.closeCode), true));
        if (!check()) this.listeners.push(() => void check());
      }),
      { what: 'the Wisp connection to close' },
    );
  }

  close(): void {
    this.ws.terminate();
  }

  private wake(): void {
    for (const listener of this.listeners) listener();
  }
}
