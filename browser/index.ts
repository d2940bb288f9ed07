/**
 * sockbridge/browser: connect(url, { token }) opens a session with a sockbridge relay over the
 * browser's WebSocket; session.openTcp(host, port) gives a connection as WHATWG streams.
 * No Node APIs: scripts/build-browser.mjs bundles this into dist/browser/sockbridge.js.
 */
import {
  ProtocolError,
  FrameType,
  GoAwayCode,
  MAX_FRAME_SIZE,
  PROTOCOL_VERSION_MAX,
  PROTOCOL_VERSION_MIN,
  ReplyCode,
  WS_SUBPROTOCOL,
  WS_TOKEN_SUBPROTOCOL_PREFIX,
} from '../protocol/frame.js';
import { ProtocolErrorCode } from '../protocol/error-codes.js';
import { decodeFrame, encodeGoAway, encodeHello } from './codec.js';
import { BrowserErrorCode, SockbridgeError } from './errors.js';
import { BrowserSession } from './session.js';
import type { ConnectOptions, Session } from './sockbridge.js';
import { WS_CLOSE_NORMAL } from '../protocol/ws-close-codes.js';

export { ReplyCode } from '../protocol/frame.js';
export { BrowserErrorCode, SockbridgeError } from './errors.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The token's UTF-8 bytes in base64url without padding (RFC 4648 §5), as the relay expects. */
function tokenSubprotocol(token: string): string {
  const binary = String.fromCharCode(...new TextEncoder().encode(token));
  return WS_TOKEN_SUBPROTOCOL_PREFIX + btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function connectFailed(message: string): SockbridgeError {
  return new SockbridgeError(BrowserErrorCode.ConnectFailed, ReplyCode.GeneralFailure, message);
}

export function connect(url: string, options: ConnectOptions): Promise<Session> {
  if (typeof options?.token !== 'string' || options.token === '') return Promise.reject(new TypeError('connect(url, { token }) needs the relay token'));
  let ws: WebSocket;
  try {
    ws = new WebSocket(url, [WS_SUBPROTOCOL, tokenSubprotocol(options.token)]);
  } catch (err) {
    return Promise.reject(err); // a malformed URL: the page's mistake, as the browser words it
  }
  ws.binaryType = 'arraybuffer';
  return new Promise((resolve, reject) => {
    const settled = (): void => {
      clearTimeout(timer);
      ws.removeEventListener('message', onHello);
      ws.removeEventListener('close', onClose);
    };
    const fail = (error: SockbridgeError): void => {
      settled();
      if (ws.readyState !== WebSocket.CLOSED) ws.close(WS_CLOSE_NORMAL);
      reject(error);
    };
    const timer = setTimeout(() => fail(connectFailed(`no answer from ${url} within ${options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS} ms`)), options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    // A browser tells a page nothing about why an upgrade failed (a wrong token looks like any 404).
    const onClose = (event: CloseEvent): void => fail(connectFailed(`the relay at ${url} refused or dropped the WebSocket (close code ${event.code}); check the URL and the token`));
    ws.addEventListener('close', onClose);
    ws.addEventListener('open', () => ws.send(encodeHello(PROTOCOL_VERSION_MIN, PROTOCOL_VERSION_MAX, MAX_FRAME_SIZE)), { once: true });
    const onHello = (event: MessageEvent): void => {
      settled();
      try {
        resolve(startSession(ws, event.data));
      } catch (err) {
        fail(err instanceof SockbridgeError ? err : connectFailed(String(err)));
      }
    };
    ws.addEventListener('message', onHello);
  });
}

/** Checks the relay's first frame (HELLO, or a GO_AWAY instead) and starts the session. */
function startSession(ws: WebSocket, data: unknown): BrowserSession {
  let frame;
  try {
    if (!(data instanceof ArrayBuffer)) throw new ProtocolError(ProtocolErrorCode.TextMessage, 'a text message');
    frame = decodeFrame(new Uint8Array(data));
    if (frame.type === FrameType.GoAway) throw connectFailed(`the relay ended the session: ${frame.reason}`);
    if (frame.type !== FrameType.Hello) throw new ProtocolError(ProtocolErrorCode.NoHello, `frame type ${frame.type} before HELLO`);
  } catch (err) {
    if (!(err instanceof ProtocolError)) throw err;
    ws.send(encodeGoAway(GoAwayCode.ProtocolError, `${err.code}: ${err.message}`));
    throw connectFailed(`the relay broke the protocol: ${err.code}: ${err.message}`);
  }
  const version = Math.min(frame.maxVersion, PROTOCOL_VERSION_MAX);
  if (version < PROTOCOL_VERSION_MIN || version < frame.minVersion) {
    const reason = `relay speaks versions ${frame.minVersion}-${frame.maxVersion}, this page ${PROTOCOL_VERSION_MIN}-${PROTOCOL_VERSION_MAX}`;
    ws.send(encodeGoAway(GoAwayCode.UnsupportedVersion, reason));
    throw connectFailed(reason);
  }
  const session = new BrowserSession(ws, version);
  session.setPeerFrameLimit(frame.maxFrameSize);
  return session;
}
