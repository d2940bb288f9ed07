/**
 * What an HTTP proxy client is told when its request cannot be served: a status and a short
 * text body saying why. One table maps the relay's (SOCKS5) reply codes to HTTP statuses, so
 * CONNECT and forwarded requests fail alike.
 */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { ReplyCode } from '../../protocol/frame.js';

export const HttpStatus = {
  Ok: 200,
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  ProxyAuthenticationRequired: 407,
  RequestTimeout: 408,
  MethodNotAllowed: 405,
  RequestHeaderFieldsTooLarge: 431,
  BadGateway: 502,
  GatewayTimeout: 504,
} as const;
export type HttpStatus = (typeof HttpStatus)[keyof typeof HttpStatus];

/**
 * RFC 9110 §15.5.4 403: refused by a rule; §15.6.3 502: no usable answer from upstream
 * (refused, unreachable, relay unavailable); §15.6.5 504: no answer in time. The relay
 * answers its dial timeout with 0x04 (as Dante does), so that one reads as 502; a direct
 * dial's timeout, which the connector flags, and 0x06 (TTL expired) read as 504.
 */
const ANSWER_BY_REPLY: Readonly<Record<ReplyCode, { status: HttpStatus; meaning: string }>> = {
  [ReplyCode.Succeeded]: { status: HttpStatus.Ok, meaning: 'connected' },
  [ReplyCode.GeneralFailure]: { status: HttpStatus.BadGateway, meaning: 'relay unavailable or failed' },
  [ReplyCode.NotAllowed]: { status: HttpStatus.Forbidden, meaning: 'refused by a rule' },
  [ReplyCode.NetworkUnreachable]: { status: HttpStatus.BadGateway, meaning: 'network unreachable' },
  [ReplyCode.HostUnreachable]: { status: HttpStatus.BadGateway, meaning: 'host unreachable or not found' },
  [ReplyCode.ConnectionRefused]: { status: HttpStatus.BadGateway, meaning: 'connection refused' },
  [ReplyCode.TtlExpired]: { status: HttpStatus.GatewayTimeout, meaning: 'no answer in time' },
  [ReplyCode.CommandNotSupported]: { status: HttpStatus.BadGateway, meaning: 'not supported by the relay' },
  [ReplyCode.AddressTypeNotSupported]: { status: HttpStatus.BadGateway, meaning: 'address type not supported by the relay' },
};

/** The status and the body's text for a refused outbound: what the reply code means (or a timeout), then the connector's why. */
export function answerForReply(reply: ReplyCode, why: string, timedOut = false): { status: HttpStatus; text: string } {
  const { status, meaning } = timedOut ? ANSWER_BY_REPLY[ReplyCode.TtlExpired] : ANSWER_BY_REPLY[reply] ?? ANSWER_BY_REPLY[ReplyCode.GeneralFailure];
  return { status, text: `${meaning}: ${why}` };
}

/** The one Basic realm the proxy asks for (RFC 9110 §11.7.1, RFC 7617). */
export const PROXY_AUTH_CHALLENGE = 'Basic realm="sockbridge", charset="UTF-8"';

const TEXT_TYPE = 'text/plain; charset=utf-8';

/** A failure on a connection still under http.Server: keep-alive carries on after it. */
export function answer(res: ServerResponse, status: HttpStatus, why: string, headers: Record<string, string> = {}): void {
  if (res.destroyed) return; // the client is gone: nobody to tell
  if (res.headersSent) {
    res.destroy(); // too late for a status: the client sees the response cut off
    return;
  }
  const body = `${why}\n`;
  res.writeHead(status, { ...headers, 'Content-Type': TEXT_TYPE, 'Content-Length': String(Buffer.byteLength(body)) });
  res.end(body);
}

/** The same as raw bytes, for a socket http.Server has let go of (CONNECT) or not parsed (clientError); the connection closes after it. */
export function rawAnswer(status: HttpStatus, why: string, headers: Record<string, string> = {}): string {
  const body = `${why}\n`;
  const lines = Object.entries({ ...headers, 'Content-Type': TEXT_TYPE, 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' });
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}\r\n${lines.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n${body}`;
}

/** What CONNECT answers on success (RFC 9110 §9.3.6: any 2xx; this reason phrase is the customary one). */
export const CONNECT_ESTABLISHED = 'HTTP/1.1 200 Connection established\r\n\r\n';
