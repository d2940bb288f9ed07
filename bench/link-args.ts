/**
 * The link emulator's command line, declared once: each option's name, help and how its
 * value is read. The same table builds the arguments for a child (linkArgs), so the
 * bench and the emulator cannot disagree on a flag's name.
 */
import type { HostPort } from './socks5.js';

/** 32 MiB: about what Linux's largest TCP windows keep in flight on one path. */
export interface LinkOptions {
  /** One listening port per upstream, in this order; all share the link. */
  upstreams: readonly HostPort[];
  /** One-way, the same both ways. */
  delayMs: number;
  /** Bytes per second each way; 0 for no limit. 1 Gbit/s = 125,000,000. */
  rateBytesPerSecond: number;
  /** Per connection and direction. */
  maxInflightBytes: number;
  /** Only with one upstream; 0 (the default) for an ephemeral port. */
  listenPort?: number;
}

export const DEFAULT_MAX_INFLIGHT_BYTES = 32 * 1024 * 1024;
const MAX_PORT = 0xffff;

interface Declared {
  help: string;
  repeatable?: boolean;
}

const FLAGS = {
  '--upstream': { help: 'HOST:PORT to connect each accepted connection to (repeat for more; one listening port each)', repeatable: true },
  '--listen-port': { help: 'port to listen on with one upstream (default 0: ephemeral)' },
  '--delay-ms': { help: 'one-way delay each way, ms (round trip = 2 ×)' },
  '--rate-bps': { help: 'link rate each way in BYTES per second (125000000 = 1 Gbit/s); 0 = unlimited' },
  '--max-inflight-bytes': { help: `bytes held per connection and direction before the sender is paused (default ${DEFAULT_MAX_INFLIGHT_BYTES})` },
} as const satisfies Record<string, Declared>;

type Flag = keyof typeof FLAGS;

export class LinkArgsError extends Error {
  constructor(message: string) {
    super(`${message}\nusage: link-emulator ${Object.entries(FLAGS).map(([flag, d]) => `\n  ${flag} … ${d.help}`).join('')}`);
    this.name = 'LinkArgsError';
  }
}

export function parseLinkArgs(argv: readonly string[]): LinkOptions {
  const values = new Map<Flag, string[]>();
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i] as Flag;
    const declared: Declared | undefined = FLAGS[flag];
    if (!declared) throw new LinkArgsError(`unknown option ${argv[i]}`);
    if (i + 1 >= argv.length) throw new LinkArgsError(`${flag} needs a value`);
    if (values.has(flag) && !declared.repeatable) throw new LinkArgsError(`${flag} given twice`);
    values.set(flag, [...(values.get(flag) ?? []), argv[i + 1]]);
  }
  const upstreams = (values.get('--upstream') ?? []).map(parseHostPort);
  if (upstreams.length === 0) throw new LinkArgsError('--upstream is required');
  const listenPort = number(values, '--listen-port', 0);
  if (listenPort > MAX_PORT || !Number.isInteger(listenPort)) throw new LinkArgsError(`--listen-port must be a port, got ${listenPort}`);
  if (listenPort !== 0 && upstreams.length > 1) throw new LinkArgsError('--listen-port works with one --upstream only');
  return {
    upstreams,
    listenPort,
    delayMs: number(values, '--delay-ms', 0),
    rateBytesPerSecond: number(values, '--rate-bps', 0),
    maxInflightBytes: number(values, '--max-inflight-bytes', DEFAULT_MAX_INFLIGHT_BYTES),
  };
}

/** The arguments that make a child emulator with `options`. */
export function linkArgs(options: LinkOptions): string[] {
  const args = options.upstreams.flatMap((u) => ['--upstream', `${u.host}:${u.port}`]);
  if (options.listenPort) args.push('--listen-port', String(options.listenPort));
  args.push('--delay-ms', String(options.delayMs), '--rate-bps', String(options.rateBytesPerSecond));
  args.push('--max-inflight-bytes', String(options.maxInflightBytes));
  return args;
}

function number(values: Map<Flag, string[]>, flag: Flag, fallback: number): number {
  const text = values.get(flag)?.[0];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) throw new LinkArgsError(`${flag} must be a number ≥ 0, got ${text}`);
  return value;
}

function parseHostPort(text: string): HostPort {
  const colon = text.lastIndexOf(':');
  const port = Number(text.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port <= 0 || port > MAX_PORT) throw new LinkArgsError(`--upstream must be HOST:PORT, got ${text}`);
  return { host: text.slice(0, colon), port };
}
