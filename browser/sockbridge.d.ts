/**
 * sockbridge/browser: the sockbridge protocol spoken by a web page, over the browser's own
 * WebSocket, to a sockbridge relay. The API a page sees; browser/index.ts implements it.
 */

/** SOCKS5 reply numbers (RFC 1928 §6), as `SockbridgeError.replyCode` carries them. */
export declare const ReplyCode: {
  readonly Succeeded: 0x00;
  readonly GeneralFailure: 0x01;
  readonly NotAllowed: 0x02;
  readonly NetworkUnreachable: 0x03;
  readonly HostUnreachable: 0x04;
  readonly ConnectionRefused: 0x05;
  readonly TtlExpired: 0x06;
  readonly CommandNotSupported: 0x07;
  readonly AddressTypeNotSupported: 0x08;
};

/** Stable codes of `SockbridgeError.code`. */
export declare const BrowserErrorCode: {
  readonly OpenFailed: 'ERR_OPEN_FAILED';
  readonly StreamReset: 'ERR_STREAM_RESET';
  readonly SessionClosed: 'ERR_SESSION_CLOSED';
  readonly ConnectFailed: 'ERR_CONNECT_FAILED';
};
export type BrowserErrorCode = (typeof BrowserErrorCode)[keyof typeof BrowserErrorCode];

/** What openTcp rejects with, and what a stream's readable and writable error with. */
export declare class SockbridgeError extends Error {
  readonly code: BrowserErrorCode;
  /** The SOCKS reply number: the relay's answer for a refused open, 0x01 otherwise. */
  readonly replyCode: number;
  /** For a reset stream, the RESET code (0x01 aborted, 0x02 the target reset it, 0x04 a limit). */
  readonly resetCode: number | null;
}

export interface ConnectOptions {
  /** The relay's tunnel token; it travels in a `sockbridge.token.` subprotocol entry. */
  token: string;
  /** Milliseconds for the WebSocket to open and the relay's HELLO to arrive (default 10,000). */
  timeoutMs?: number;
}

export interface Endpoint {
  host: string;
  port: number;
}

/** One TCP connection through the relay. */
export interface TcpConnection {
  /** Bytes from the target. Credit goes back to the relay only as this is read. */
  readonly readable: ReadableStream<Uint8Array>;
  /** Bytes to the target (Uint8Array, ArrayBuffer, a view, or a string sent as UTF-8); close() half-closes. */
  readonly writable: WritableStream<Uint8Array | ArrayBuffer | ArrayBufferView | string>;
  /** The relay's local address for the connection. */
  readonly bound: Endpoint;
  /** Aborts both directions at once (RESET). */
  reset(reason?: string): void;
}

/** How a session ended. */
export interface SessionEnd {
  /** The GO_AWAY code (0x00 normal, 0x01 protocol error, 0x03 relay shutting down, …), or null when the WebSocket just closed. */
  code: number | null;
  reason: string;
}

export interface Session {
  /** The protocol version the relay picked. */
  readonly version: number;
  /** Settles when the session ends, however it ends. */
  readonly closed: Promise<SessionEnd>;
  /** Opens a TCP connection from the relay to host:port; rejects with a SockbridgeError carrying the relay's reply. */
  openTcp(host: string, port: number): Promise<TcpConnection>;
  /** Ends the session (GO_AWAY Normal) and every stream in it. Idempotent. */
  close(): Promise<void>;
}

/** Opens a session with the relay at `url` (ws:// or wss://, the tunnel path included). */
export declare function connect(url: string, options: ConnectOptions): Promise<Session>;
