/**
 * Absolute-form requests (`GET http://host/path`, RFC 9112 §3.2.2): each is sent to its
 * origin over an outbound of its own, in origin-form, without hop-by-hop headers and with
 * `Connection: close`, while the client's connection to the proxy stays alive for the next
 * request, to any host. Bodies stream both ways with backpressure (pipe), chunked or not.
 */
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { formatHostPort } from '../../common/host-port.js';
import { answer, answerForReply, HttpStatus } from './http-replies.js';
import { endToEndHeaders } from './hop-by-hop.js';
import type { AbsoluteTarget } from './request-target.js';
import type { HttpProxyDeps } from './proxy-deps.js';

/** Host is rewritten from the request-target (RFC 9112 §3.2.2); Expect was answered here already (Node sends 100 Continue). */
const REPLACED_REQUEST_HEADERS = ['host', 'expect'];

export async function forwardRequest(req: IncomingMessage, res: ServerResponse, absolute: AbsoluteTarget, deps: HttpProxyDeps): Promise<void> {
  const peer = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
  const dest = formatHostPort(absolute.target);
  const gone = new AbortController();
  const onClose = (): void => gone.abort();
  res.once('close', onClose);
  const outcome = await deps.connector.connect({ target: absolute.target, early: Buffer.alloc(0), peer, signal: gone.signal, asked: `${req.method} ${dest}` });
  res.off('close', onClose);
  if (!outcome.ok) {
    deps.logger.info(`HTTP request refused: ${outcome.why}`, { peer, method: req.method });
    const { status, text } = answerForReply(outcome.reply, outcome.why, outcome.timedOut);
    return answer(res, status, text, closeUnlessComplete(req));
  }
  const upstream = outcome.asDuplex();
  // The request's own 'error' reports failures once it owns the socket. Until then an error
  // with no listener would end the process: a stream the relay reset in the same read as its
  // success reply comes back already destroyed, its 'error' due on the next tick.
  upstream.on('error', () => {});
  if (res.destroyed) return void upstream.destroy();
  if (upstream.destroyed) return answer(res, HttpStatus.BadGateway, `${dest} closed the connection at once`, closeUnlessComplete(req));
  const outgoing = request({
    createConnection: () => upstream,
    method: req.method,
    path: absolute.path,
    headers: outgoingHeaders(req, absolute),
    setHost: false,
  });
  outgoing.on('response', (incoming) => relayResponse(incoming, res, upstream));
  outgoing.on('error', (err) => {
    if (res.writableFinished) return; // the answer is complete: what failed after it no longer matters
    deps.logger.info('HTTP request failed', { peer, dest, error: err.message });
    answer(res, HttpStatus.BadGateway, `${dest} did not answer: ${err.message}`);
  });
  res.once('close', () => {
    if (!res.writableFinished) outgoing.destroy(); // the client went away mid-exchange
  });
  req.pipe(outgoing);
}

/**
 * A refused request whose body has not all arrived closes the connection after its answer:
 * otherwise Node would read the whole unwanted body to reach the next request.
 */
export function closeUnlessComplete(req: IncomingMessage): Record<string, string> {
  return req.complete ? {} : { Connection: 'close' };
}

/** Flat raw headers for the origin: Host from the request-target, end-to-end headers as sent, `Connection: close`. */
function outgoingHeaders(req: IncomingMessage, absolute: AbsoluteTarget): string[] {
  const headers = ['Host', absolute.authority, ...endToEndHeaders(req.rawHeaders, REPLACED_REQUEST_HEADERS)];
  // Node took the chunked framing off the body; the same coding goes on again for the origin.
  const transferEncoding = req.headers['transfer-encoding'];
  if (transferEncoding !== undefined) headers.push('Transfer-Encoding', transferEncoding);
  headers.push('Connection', 'close');
  return headers;
}

function relayResponse(incoming: IncomingMessage, res: ServerResponse, upstream: Duplex): void {
  if (res.destroyed) return void upstream.destroy();
  res.sendDate = false; // the origin's Date, not ours
  try {
    res.writeHead(incoming.statusCode ?? HttpStatus.BadGateway, incoming.statusMessage, endToEndHeaders(incoming.rawHeaders));
  } catch (err) {
    // Node's parser let a header through that its writer refuses: the response cannot be passed on.
    upstream.destroy();
    return answer(res, HttpStatus.BadGateway, `the origin's response could not be passed on: ${(err as Error).message}`);
  }
  // A body cut short upstream must look cut short to the client, not complete.
  const cutShort = (): void => {
    if (!res.writableFinished) res.destroy();
  };
  incoming.once('aborted', cutShort);
  incoming.once('error', cutShort);
  incoming.pipe(res);
}
