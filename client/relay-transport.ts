/**
 * The connection under the tunnel's WebSocket when ws cannot open it alone: through an
 * HTTP proxy (CONNECT, RFC 9110 §9.3.6) and/or to a relay whose certificate is pinned.
 * Everything — proxy answer, TLS handshake, fingerprint — is settled here, before the
 * WebSocket writes a byte, so a wrong relay never sees the upgrade request or its token.
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { HTTP_DEFAULT_PORT, HTTPS_DEFAULT_PORT } from '../common/host-port.js';
import { normalizeFingerprint } from '../common/relay-identity.js';

/** A failure to reach the relay, its message naming the flag to check. */
export class RelayTransportError extends Error {
  constructor(
    readonly code: 'PROXY_REFUSED' | 'PROXY_UNREACHABLE' | 'FINGERPRINT_MISMATCH' | 'TLS_FAILED' | 'TIMEOUT',
    message: string,
  ) {
    super(message);
    this.name = 'RelayTransportError';
  }
}

export interface RelayTransportOptions {
  /** PEM CA certificate(s) to trust instead of Node's bundle; null for the bundle. */
  ca: string | Buffer | null;
  /** Lowercase hex SHA-256 of the relay's certificate, no colons; null for no pin. */
  fingerprint: string | null;
  /** http://[user:pass@]host:port of a CONNECT proxy; null to connect directly. */
  httpProxy: string | null;
  /** The TLS server name to send, and to find in the certificate; null for the URL's host. */
  sni: string | null;
}

/** What the upgrade request carries besides the handshake: the CDN flags and the token. */
export interface UpgradeRequestOptions {
  token: string;
  /** The Host header; null for the URL's host:port. */
  host: string | null;
  sni: string | null;
  headers: Readonly<Record<string, string>>;
}

const MAX_PROXY_HEADER_BYTES = 16 * 1024;
const SUCCESS_STATUS = /^HTTP\/1\.[01] 2\d\d\b/;

/**
 * ws options for the upgrade request: its headers (the extra ones first, so Host and the token
 * are always sockbridge's own) and, when ws makes the TLS connection itself, the server name.
 * Node checks the certificate against `servername` when one is given.
 */
export function upgradeRequestOptions(options: UpgradeRequestOptions): { headers: Record<string, string>; servername?: string } {
  const headers: Record<string, string> = { ...options.headers, Authorization: `Bearer ${options.token}` };
  if (options.host !== null) headers.Host = options.host;
  return options.sni !== null ? { headers, servername: options.sni } : { headers };
}

/** ws opens a plain connection, or verifies TLS itself, unless a proxy or a pin is set. */
export function needsOwnTransport(options: RelayTransportOptions): boolean {
  return options.httpProxy !== null || options.fingerprint !== null;
}

/** A hint naming --ca/--fingerprint when `err` is a certificate verification failure. */
export function certificateHint(err: Error & { code?: string }): string {
  const code = err.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return " (the relay's certificate does not name the relay's host, or --sni: check --sni, or pin it with --fingerprint SHA256)";
  if (!/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code)) return '';
  return " (the relay's certificate is not trusted: pass --ca FILE for a private CA, or pin it with --fingerprint SHA256)";
}

/** A connected socket to the relay named by `relayUrl`, TLS done and checked for wss://. */
export async function openRelayTransport(relayUrl: string, options: RelayTransportOptions, timeoutMs: number): Promise<Socket> {
  const url = new URL(relayUrl);
  const secure = url.protocol === 'wss:';
  const host = unbracket(url.hostname);
  const port = url.port === '' ? (secure ? HTTPS_DEFAULT_PORT : HTTP_DEFAULT_PORT) : Number(url.port);
  let current: Socket | null = null;
  const timer = setTimeout(() => current?.destroy(new RelayTransportError('TIMEOUT', `no connection to the relay within ${timeoutMs} ms`)), timeoutMs);
  try {
    const raw = options.httpProxy === null ? await tcpConnect(host, port, (s) => (current = s)) : await proxyConnect(new URL(options.httpProxy), host, port, (s) => (current = s));
    if (!secure) return raw;
    return await tlsHandshake(raw, host, options, (s) => (current = s));
  } finally {
    clearTimeout(timer);
  }
}

function tcpConnect(host: string, port: number, track: (socket: Socket) => void): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    track(socket);
    socket.once('error', reject);
    socket.once('connect', () => {
      socket.removeListener('error', reject);
      resolve(socket);
    });
  });
}

/** CONNECT host:port through the proxy; resolves with the socket once the proxy answers 2xx. */
function proxyConnect(proxy: URL, host: string, port: number, track: (socket: Socket) => void): Promise<Socket> {
  const authority = `${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
  const proxyPort = proxy.port === '' ? HTTP_DEFAULT_PORT : Number(proxy.port);
  const proxyName = `${proxy.hostname}:${proxyPort}`;
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host: unbracket(proxy.hostname), port: proxyPort });
    track(socket);
    let buffered = Buffer.alloc(0);
    const fail = (err: Error): void => {
      socket.destroy();
      reject(err instanceof RelayTransportError ? err : new RelayTransportError('PROXY_UNREACHABLE', `--http-proxy: cannot reach the proxy at ${proxyName}: ${err.message}`));
    };
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > MAX_PROXY_HEADER_BYTES) fail(new RelayTransportError('PROXY_REFUSED', `--http-proxy: the proxy at ${proxyName} sent an over-long answer`));
        return;
      }
      const statusLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
      socket.removeListener('data', onData);
      socket.removeListener('error', fail);
      socket.removeListener('close', onClose);
      if (!SUCCESS_STATUS.test(statusLine)) return fail(new RelayTransportError('PROXY_REFUSED', `--http-proxy: the proxy at ${proxyName} answered "${statusLine}" to CONNECT ${authority}`));
      const rest = buffered.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    };
    const onClose = (): void => fail(new RelayTransportError('PROXY_REFUSED', `--http-proxy: the proxy at ${proxyName} closed the connection before answering CONNECT`));
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('close', onClose);
    socket.once('connect', () => {
      socket.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${proxyAuthorization(proxy)}\r\n`);
    });
  });
}

/** Basic credentials from the proxy URL's user info (RFC 7617), or nothing. */
function proxyAuthorization(proxy: URL): string {
  if (proxy.username === '' && proxy.password === '') return '';
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return `Proxy-Authorization: Basic ${Buffer.from(credentials).toString('base64')}\r\n`;
}

/**
 * TLS over `raw`. Without a pin Node verifies the chain and the name. With a pin the chain
 * check is skipped unless --ca is also given (a pinned self-signed certificate must work),
 * and the certificate's SHA-256 must match before the socket is handed back.
 */
function tlsHandshake(raw: Socket, host: string, options: RelayTransportOptions, track: (socket: Socket) => void): Promise<TLSSocket> {
  const pin = options.fingerprint;
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({
      socket: raw,
      host,
      // Node checks the certificate's names against the server name when there is one (--sni).
      servername: options.sni ?? (isIP(host) === 0 ? host : undefined),
      ca: options.ca ?? undefined,
      rejectUnauthorized: pin === null || options.ca !== null,
    });
    track(socket);
    const fail = (err: Error & { code?: string }): void => {
      socket.destroy();
      raw.destroy();
      reject(err instanceof RelayTransportError ? err : new RelayTransportError('TLS_FAILED', `TLS with the relay failed: ${err.message}${certificateHint(err)}`));
    };
    socket.once('error', fail);
    socket.once('secureConnect', () => {
      socket.removeListener('error', fail);
      if (pin !== null) {
        const actual = normalizeFingerprint(socket.getPeerCertificate().fingerprint256 ?? '');
        if (actual !== pin) return fail(new RelayTransportError('FINGERPRINT_MISMATCH', `--fingerprint: the relay's certificate has SHA-256 ${actual ?? 'unknown'}, not the pinned ${pin}`));
      }
      resolve(socket);
    });
  });
}

function unbracket(hostname: string): string {
  return hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
}
