/**
 * One SOCKS connection on the client: an explicit state machine that runs the
 * handshake (SOCKS4, 4a or 5, detected from the first byte), opens a stream through
 * the tunnel (CONNECT through the Connector), answers only once the outbound is dialed
 * (or at once under fast open), then joins the socket to it.
 */
import type { Socket } from 'node:net';
import type { Logger } from '../../common/log.js';
import { credentialsEqual } from '../../common/secrets.js';
import { formatHostPort } from '../../common/host-port.js';
import { Command, ReplyCode, ResetCode, type Address } from '../../protocol/frame.js';
import { UNSPECIFIED_ADDRESS } from '../../protocol/address.js';
import { bridgeSocket } from '../../protocol/socket-bridge.js';
import type { Session } from '../../protocol/session.js';
import type { Stream } from '../../protocol/stream.js';
import type { SocksCredentials } from '../config.js';
import type { Connector } from '../outbound/connector.js';
import type { SessionSource } from '../tunnel.js';
import { AuthMethod, SOCKS_VERSION_4, SOCKS_VERSION_5, Socks4Reply, UserPassStatus } from './constants.js';
import { SocksError } from './errors.js';
import { parseGreeting, parseSocks4Request, parseSocks5Request, parseUserPassRequest } from './parsers.js';
import { UdpRelay } from './udp-relay.js';
import { encodeMethodSelection, encodeSocks4Reply, encodeSocks5Reply, encodeUserPassStatus } from './replies.js';
import { hexByte } from '../../common/hex-byte.js';

export const ConnectionState = {
  AwaitVersion: 'await-version',
  Greeting: 'greeting',
  UserPass: 'user-pass',
  Socks5Request: 'socks5-request',
  Socks4Request: 'socks4-request',
  Connecting: 'connecting',
  Relaying: 'relaying',
  /** UDP ASSOCIATE: the TCP connection only keeps the association alive. */
  Associated: 'associated',
  Closed: 'closed',
} as const;
export type ConnectionState = (typeof ConnectionState)[keyof typeof ConnectionState];

/** The longest legitimate handshake message is a user/password request: 3 + 255 + 255 bytes. */
const MAX_HANDSHAKE_BYTES = 1024;
const UDP_IDLE_CHECK_MS = 1_000;
const COMMAND_NAMES: Readonly<Record<Command, string>> = {
  [Command.Connect]: 'CONNECT',
  [Command.Bind]: 'BIND',
  [Command.UdpAssociate]: 'UDP ASSOCIATE',
};

export interface ConnectionDeps {
  tunnel: SessionSource;
  socksUser: SocksCredentials | null;
  handshakeTimeoutMs: number;
  /** A UDP association with no datagram either way for this long is closed. */
  udpIdleTimeoutMs: number;
  /** Opens CONNECT's outbound (relay, fast open). */
  connector: Connector;
  logger: Logger;
}

export class SocksConnection {
  private state: ConnectionState = ConnectionState.AwaitVersion;
  private buffer: Buffer = Buffer.alloc(0);
  private version = 0;
  private stream: Stream | null = null;
  /** Aborted when the application leaves while its CONNECT is being dialed. */
  private connecting: AbortController | null = null;
  private readonly handshakeTimer: NodeJS.Timeout;
  private readonly peer: string;
  private readonly onData = (chunk: Buffer): void => this.receive(chunk);

  constructor(
    private readonly socket: Socket,
    private readonly deps: ConnectionDeps,
  ) {
    this.peer = `${socket.remoteAddress}:${socket.remotePort}`;
    this.handshakeTimer = setTimeout(() => this.fail('handshake timed out', null), deps.handshakeTimeoutMs);
    socket.on('data', this.onData);
    socket.on('error', () => {}); // 'close' follows; the bridge reports errors once relaying
    socket.on('close', () => this.onSocketClose());
    socket.on('end', () => {
      if (this.isHandshaking()) this.fail('client closed the connection mid-handshake', null);
    });
  }

  private receive(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    try {
      while (this.step()) {
        // each step consumed a whole message; go on while bytes remain
      }
    } catch (err) {
      // Whatever the bytes, this connection fails alone; the process goes on serving.
      if (err instanceof SocksError) this.fail(`malformed request: ${err.code}`, err.reply);
      else this.fail(`internal error: ${(err as Error).message}`, ReplyCode.GeneralFailure);
      return;
    }
    if (this.buffer.length > MAX_HANDSHAKE_BYTES && this.isHandshaking()) {
      this.fail(`handshake message over ${MAX_HANDSHAKE_BYTES} bytes`, ReplyCode.GeneralFailure);
    }
  }

  /** Runs the current state's parser once; true when it consumed a message and more may follow. */
  private step(): boolean {
    if (this.buffer.length === 0) return false;
    switch (this.state) {
      case ConnectionState.AwaitVersion: return this.detectVersion();
      case ConnectionState.Greeting: return this.consume(parseGreeting(this.buffer), (greeting) => this.chooseMethod(greeting.methods));
      case ConnectionState.UserPass: return this.consume(parseUserPassRequest(this.buffer), (creds) => this.checkCredentials(creds));
      case ConnectionState.Socks5Request: return this.consume(parseSocks5Request(this.buffer), (req) => this.request(req.command, req.address));
      case ConnectionState.Socks4Request: return this.consume(parseSocks4Request(this.buffer), (req) => this.request(req.command, req.address));
      default: return false;
    }
  }

  private consume<T>(result: { value: T; consumed: number } | null, then: (value: T) => void): boolean {
    if (result === null) return false;
    this.buffer = this.buffer.subarray(result.consumed);
    then(result.value);
    return this.isHandshaking();
  }

  private detectVersion(): boolean {
    this.version = this.buffer[0];
    if (this.version === SOCKS_VERSION_5) this.state = ConnectionState.Greeting;
    else if (this.version === SOCKS_VERSION_4) this.state = ConnectionState.Socks4Request;
    else {
      this.fail(`not a SOCKS request (first byte ${hexByte(this.version)})`, null);
      return false;
    }
    return true;
  }

  /** RFC 1928 §3. With --socks-user set only username/password is acceptable. */
  private chooseMethod(methods: number[]): void {
    const wantsUserPass = this.deps.socksUser !== null || !methods.includes(AuthMethod.NoAuth);
    const method = wantsUserPass ? AuthMethod.UsernamePassword : AuthMethod.NoAuth;
    if (!methods.includes(method)) {
      this.refuse(`no acceptable auth method (offered ${methods.join(',')})`, encodeMethodSelection(AuthMethod.NoAcceptable));
      return;
    }
    this.socket.write(encodeMethodSelection(method));
    this.state = method === AuthMethod.UsernamePassword ? ConnectionState.UserPass : ConnectionState.Socks5Request;
  }

  /** RFC 1929 §2. Without configured users any credentials pass: the client chose to send them. */
  private checkCredentials(creds: SocksCredentials): void {
    const expected = this.deps.socksUser;
    if (expected && !credentialsEqual(creds, expected)) {
      this.refuse('wrong SOCKS username or password', encodeUserPassStatus(UserPassStatus.Failure));
      return;
    }
    this.socket.write(encodeUserPassStatus(UserPassStatus.Success));
    this.state = ConnectionState.Socks5Request;
  }

  private request(command: number, target: Address): void {
    clearTimeout(this.handshakeTimer);
    if (this.version === SOCKS_VERSION_4 && this.deps.socksUser !== null) {
      // SOCKS4 carries a user id but no password, so it cannot prove who it is (Dante refuses it too).
      this.fail('SOCKS4 has no password: with --socks-user only SOCKS5 clients with the credentials are served', ReplyCode.NotAllowed);
      return;
    }
    if (!this.supports(command)) {
      this.fail(`command ${hexByte(command)} not supported`, ReplyCode.CommandNotSupported);
      return;
    }
    this.state = ConnectionState.Connecting;
    // Bytes the application sent right behind its request wait in the kernel until we reply.
    this.socket.off('data', this.onData);
    this.socket.pause();
    const early = this.buffer;
    this.buffer = Buffer.alloc(0);
    const served = command === Command.Connect ? this.connect(target, early) : this.execute(command as Command, target, early);
    // E.g. a session that closed or ran out of stream ids as the stream was opened: this connection fails alone.
    served.catch((err: Error) => {
      // Once the reply went out, a failure reply would land in the application's data.
      if (this.state === ConnectionState.Relaying || this.state === ConnectionState.Associated) this.socket.destroy();
      else this.fail(`internal error: ${err.message}`, ReplyCode.GeneralFailure);
    });
  }

  /** CONNECT and BIND in both versions; UDP ASSOCIATE exists only in SOCKS5. */
  private supports(command: number): boolean {
    if (command === Command.Connect || command === Command.Bind) return true;
    return command === Command.UdpAssociate && this.version === SOCKS_VERSION_5;
  }

  private async connect(target: Address, early: Buffer): Promise<void> {
    this.connecting = new AbortController();
    const outcome = await this.deps.connector.connect({ target, early, peer: this.peer, signal: this.connecting.signal });
    this.connecting = null;
    if (this.state !== ConnectionState.Connecting) {
      if (outcome.ok) outcome.join(this.socket); // the socket is gone: join abandons the outbound
      return;
    }
    if (!outcome.ok) {
      this.fail(outcome.why, outcome.reply);
      return;
    }
    this.state = ConnectionState.Relaying;
    this.socket.write(this.reply(ReplyCode.Succeeded, outcome.bound));
    outcome.join(this.socket);
  }

  /** BIND and UDP ASSOCIATE: always through the relay. */
  private async execute(command: Command, target: Address, early: Buffer): Promise<void> {
    const destination = formatHostPort(target);
    // BIND names the peer it expects; UDP ASSOCIATE names only the application's own address (each datagram is checked).
    const rule = command === Command.Bind ? this.deps.connector.blockingRule(target) : null;
    if (rule !== null) {
      this.fail(`BIND for ${destination} blocked by ${rule}`, ReplyCode.NotAllowed);
      return;
    }
    const session = await this.deps.tunnel.getSession();
    if (this.state !== ConnectionState.Connecting) return;
    if (!session) {
      this.fail(`relay unavailable for ${destination}`, ReplyCode.GeneralFailure);
      return;
    }
    const { stream, result } = session.openStream(command, target);
    this.stream = stream;
    const { reply, bound } = await result;
    if (this.state !== ConnectionState.Connecting) return;
    if (reply !== ReplyCode.Succeeded) {
      this.fail(`relay could not serve ${COMMAND_NAMES[command]} ${destination} (reply ${hexByte(reply)})`, reply);
      return;
    }
    this.deps.logger.debug(`${COMMAND_NAMES[command]} succeeded`, { peer: this.peer, dest: destination, stream: stream.id });
    if (command === Command.UdpAssociate) {
      await this.associate(session, stream, target);
      return;
    }
    // BIND's second reply must reach the application before the peer's first bytes: a callback, not a promise.
    stream.onBindResult = (bindReply, peer) => this.answerBind(stream, bindReply, peer);
    this.joinSocket(stream, this.reply(ReplyCode.Succeeded, bound), early);
  }

  /** From now on the socket and the stream carry each other's bytes; `reply` goes first, then `early` bytes not yet sent. */
  private joinSocket(stream: Stream, reply: Buffer, early: Buffer): void {
    this.state = ConnectionState.Relaying;
    this.socket.write(reply);
    // Before the bridge: it ends the stream at once if the application's FIN came already.
    if (early.length > 0) stream.write(early);
    bridgeSocket(stream, this.socket);
    this.socket.resume();
  }

  private answerBind(stream: Stream, reply: ReplyCode, peer: Address): void {
    // A BIND for any address (0.0.0.0:0) admits whoever connects: the peer itself must not be blocked.
    const rule = reply === ReplyCode.Succeeded ? this.deps.connector.blockingRule(peer) : null;
    if (rule !== null) {
      this.deps.logger.info(`BIND peer ${formatHostPort(peer)} blocked by ${rule}`, { peer: this.peer });
      if (!this.socket.destroyed) this.socket.end(this.reply(ReplyCode.NotAllowed, UNSPECIFIED_ADDRESS));
      stream.reset(ResetCode.Aborted, 'BIND peer blocked by the client');
      return;
    }
    if (reply === ReplyCode.Succeeded) {
      this.socket.write(this.reply(reply, peer));
      return;
    }
    this.deps.logger.info('BIND ended without a connection', { peer: this.peer, reply });
    if (!this.socket.destroyed) this.socket.end(this.reply(reply, UNSPECIFIED_ADDRESS));
  }

  /** UDP ASSOCIATE: the association lives exactly as long as this control connection. */
  private async associate(session: Session, stream: Stream, declared: Address): Promise<void> {
    let relay: UdpRelay;
    try {
      const { logger, connector } = this.deps;
      relay = await UdpRelay.open(this.socket.localAddress ?? '127.0.0.1', this.socket.remoteAddress ?? '', declared.port, session, stream, {
        onTooLarge: (payloadBytes, limit) =>
          logger.info('UDP datagram dropped: over the relay\'s frame-size limit (logged once per association)', { peer: this.peer, payloadBytes, limit }),
        blockedBy: (destination) => connector.blockingRule(destination),
        onBlocked: (destination, rule) =>
          logger.info(`UDP datagram dropped: ${formatHostPort(destination)} blocked by ${rule} (logged once per association)`, { peer: this.peer }),
      });
    } catch (err) {
      stream.reset(ResetCode.Aborted, 'client could not open a UDP socket');
      this.fail(`UDP socket: ${(err as Error).message}`, ReplyCode.GeneralFailure);
      return;
    }
    if (this.state !== ConnectionState.Connecting) {
      relay.close();
      return;
    }
    this.state = ConnectionState.Associated;
    this.socket.write(this.reply(ReplyCode.Succeeded, relay.address));
    const idleCheck = setInterval(() => {
      if (relay.idleMs < this.deps.udpIdleTimeoutMs) return;
      this.deps.logger.info('UDP association idle, closing', { peer: this.peer, idleMs: relay.idleMs });
      this.socket.destroy();
    }, Math.min(this.deps.udpIdleTimeoutMs, UDP_IDLE_CHECK_MS));
    const end = (): void => {
      clearInterval(idleCheck);
      relay.close();
      stream.reset(ResetCode.Aborted, 'UDP control connection closed');
      this.socket.destroy();
    };
    stream.whenClosed(end);
    // RFC 1928 §7: the association ends with its TCP connection, whether closed by FIN or RST.
    this.socket.once('end', end);
    this.socket.once('close', end);
    this.socket.on('data', () => {}); // RFC 1928 §7: the control connection carries nothing more
    this.socket.resume();
  }

  /** A reply in the connection's SOCKS version (SOCKS4 knows only granted and rejected). */
  private reply(code: ReplyCode, address: Address): Buffer {
    if (this.version === SOCKS_VERSION_4) {
      return encodeSocks4Reply(code === ReplyCode.Succeeded ? Socks4Reply.Granted : Socks4Reply.Rejected, address);
    }
    return encodeSocks5Reply(code, address);
  }

  /** Answers with `reply` when the protocol has a place for it, logs why, and closes. */
  private fail(why: string, reply: ReplyCode | null): void {
    this.refuse(why, this.failureReply(reply));
  }

  /** Logs why, sends `answer` (if any) ahead of the FIN, and closes. */
  private refuse(why: string, answer: Buffer | null): void {
    if (this.state === ConnectionState.Closed) return;
    this.deps.logger.info(`SOCKS request refused: ${why}`, { peer: this.peer });
    this.close();
    if (answer && !this.socket.destroyed) this.socket.end(answer, () => this.socket.destroy());
    else this.socket.destroy();
  }

  private failureReply(reply: ReplyCode | null): Buffer | null {
    if (reply === null || this.socket.destroyed) return null;
    // Before the request stage a SOCKS5 client expects no reply of this shape.
    const requestStage = this.version === SOCKS_VERSION_4 || this.state === ConnectionState.Socks5Request || this.state === ConnectionState.Connecting;
    return requestStage ? this.reply(reply, UNSPECIFIED_ADDRESS) : null;
  }

  private onSocketClose(): void {
    if (this.state === ConnectionState.Connecting) {
      this.stream?.reset(ResetCode.Aborted, 'SOCKS client went away');
      this.connecting?.abort();
    }
    this.close();
  }

  private close(): void {
    if (this.state === ConnectionState.Relaying || this.state === ConnectionState.Associated) return; // owned elsewhere now
    this.state = ConnectionState.Closed;
    clearTimeout(this.handshakeTimer);
    this.socket.off('data', this.onData);
  }

  private isHandshaking(): boolean {
    return (
      this.state === ConnectionState.AwaitVersion ||
      this.state === ConnectionState.Greeting ||
      this.state === ConnectionState.UserPass ||
      this.state === ConnectionState.Socks5Request ||
      this.state === ConnectionState.Socks4Request
    );
  }
}
