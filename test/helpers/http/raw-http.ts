/**
 * HTTP/1.x spoken by hand, as a scanner does: any request bytes on a plain socket, and the
 * answer parsed just enough to compare two servers: the status line, the headers in order
 * with their case, and the body (chunks decoded). Reads until the server closes, or until
 * the head of a 101 arrives. Bounded in time.
 */
import { connect } from 'node:net';
import { connect as connectTls } from 'node:tls';

export interface RawResponse {
  statusLine: string;
  status: number;
  /** [name, value] in the order sent, names as sent. */
  headers: Array<[string, string]>;
  body: Buffer;
  /** Everything received, for messages. */
  raw: string;
}

export interface RawOptions {
  /** Speak TLS, trusting this CA (PEM), with SNI localhost. */
  tlsCa?: Buffer;
  timeoutMs?: number;
}

export function rawRequest(port: number, request: string | Buffer, options: RawOptions = {}): Promise<RawResponse> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const send = (): void => void socket.write(request);
    const socket =
      options.tlsCa === undefined
        ? connect(port, '127.0.0.1', send)
        : connectTls({ host: '127.0.0.1', port, servername: 'localhost', ca: options.tlsCa }, send);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => done(new Error(`no complete answer within ${timeoutMs} ms; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`)), timeoutMs);
    const done = (err: Error | null): void => {
      clearTimeout(timer);
      socket.destroy();
      if (err) return reject(err);
      try {
        resolve(parseResponse(Buffer.concat(chunks)));
      } catch (parseError) {
        reject(parseError as Error);
      }
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const soFar = Buffer.concat(chunks);
      if (soFar.subarray(0, 12).toString('latin1') === 'HTTP/1.1 101' && soFar.includes('\r\n\r\n')) done(null);
    });
    socket.on('end', () => done(null));
    socket.on('error', (err) => done(err));
  });
}

export function parseResponse(bytes: Buffer): RawResponse {
  const headEnd = bytes.indexOf('\r\n\r\n');
  if (headEnd === -1) throw new Error(`no response head in ${JSON.stringify(bytes.toString('latin1').slice(0, 300))}`);
  const lines = bytes.subarray(0, headEnd).toString('latin1').split('\r\n');
  const statusLine = lines[0];
  const headers = lines.slice(1).map((line): [string, string] => {
    const colon = line.indexOf(':');
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const rest = bytes.subarray(headEnd + 4);
  const chunked = headers.some(([name, value]) => name.toLowerCase() === 'transfer-encoding' && /chunked/i.test(value));
  return { statusLine, status: Number(statusLine.split(' ')[1]), headers, body: chunked ? decodeChunked(rest) : rest, raw: bytes.toString('latin1') };
}

function decodeChunked(bytes: Buffer): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (let guard = 0; guard < 100_000 && at < bytes.length; guard++) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd === -1) break;
    const size = parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(bytes.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Headers that describe one connection or one moment, so two servers may differ in them. */
const PER_HOP = new Set(['date', 'connection', 'keep-alive']);

/** The headers to compare: all but Date, Connection and Keep-Alive, in order, case kept. */
export function comparableHeaders(response: RawResponse): Array<[string, string]> {
  return response.headers.filter(([name]) => !PER_HOP.has(name.toLowerCase()));
}

/** A GET-like request: `Connection: close`, so the server's close ends the answer. */
export function request(method: string, path: string, host: string, extra = '', version = '1.1'): string {
  return `${method} ${path} HTTP/${version}\r\nHost: ${host}\r\nUser-Agent: probe/1.0\r\nAccept: */*\r\n${extra}Connection: close\r\n\r\n`;
}

/** A WebSocket upgrade request (RFC 6455 §4.1) with a fixed key, so two answers can be compared. */
export function upgradeRequest(path: string, host: string, extra = '', version = '1.1'): string {
  return (
    `GET ${path} HTTP/${version}\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`
  );
}
