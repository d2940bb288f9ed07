/** The client's resolved options (cli/options/) turned into its settings, files read. Run at start and, for the rules, on SIGHUP. */
import type { ClientConfig, ClientSettings, SocksCredentials } from '../client/config.js';
import type { FastOpenMode } from '../client/fast-open.js';
import { ruleFromFlag, type RoutingRule } from '../client/outbound/rules.js';
import type { Route } from '../client/outbound/route.js';
import { parseHeaderFlags } from '../client/upgrade-headers.js';
import { RuleSyntaxError } from '../common/target-syntax.js';
import type { Address } from '../protocol/frame.js';
import { TUNNEL_PATH } from '../protocol/frame.js';
import { UsageError } from './args.js';
import type { OptionValues } from './options/parse.js';
import { readSecret } from './secret-files.js';
import { readFlagFile } from './tls-flags.js';
import type { ShareLink } from '../common/share-link.js';
import { linkFromFlags } from './link-flag.js';


/** --link or --link-file, decoded; null without either. */
export function shareLinkOf(values: OptionValues): ShareLink | null {
  return linkFromFlags(values.get<string>('link'), values.get<string>('link-file'));
}

/** `link`'s relay, token, fingerprint, host and sni are defaults the other options override. */
export function clientSettings(values: OptionValues, link: ShareLink | null = null): ClientSettings {
  const given = values.get<string[]>('relay') ?? [];
  // Explicit --relay flags replace every relay of the link.
  const relayUrls = given.length > 0 ? given : link === null ? [] : [link.relayUrl, ...(link.alsoRelayUrls ?? [])];
  if (relayUrls.length === 0 || relayUrls.some((url) => url === '')) throw new UsageError(`--relay: the relay URL (or a --link) is required, e.g. --relay ws://relay.example:8080${TUNNEL_PATH}`);
  const ca = values.get<string>('ca');
  return {
    relayUrls,
    tunnels: values.get<number>('tunnels'),
    tunnelMaxAgeMs: values.get<number>('tunnel-max-age') ?? null,
    statusListen: values.get<Address>('status-listen') ?? null,
    token: tokenOf(values, link),
    socks: values.get<Address>('socks'),
    socksUser: credentialsOf(values),
    handshakeTimeoutMs: values.get<number>('handshake-timeout'),
    tunnelWaitMs: values.get<number>('tunnel-wait'),
    udpIdleTimeoutMs: values.get<number>('udp-idle-timeout'),
    keepaliveIntervalMs: values.get<number>('keepalive-interval'),
    keepaliveTimeoutMs: values.get<number>('keepalive-timeout'),
    ca: ca === undefined ? null : readFlagFile(values.source('ca'), ca),
    fingerprint: values.get<string>('fingerprint') ?? link?.fingerprint ?? null,
    httpProxy: values.get<string>('http-proxy') ?? null,
    host: values.get<string>('host') ?? link?.host ?? null,
    sni: values.get<string>('sni') ?? link?.sni ?? null,
    headers: parseHeaderFlags(values.get<string[]>('header') ?? []),
    fastOpen: values.get<FastOpenMode>('fast-open'),
    dnsListen: values.get<Address>('dns-listen') ?? null,
    dnsUpstream: values.get<Address>('dns-upstream'),
    dnsTimeoutMs: values.get<number>('dns-timeout'),
    windowBudget: values.get<number>('window-budget'),
    maxStreamWindow: values.get<number>('max-stream-window'),
    ...routingOf(values),
  };
}

/** --direct/--block in order and the --rules file: what SIGHUP reloads. */
export function routingOf(values: OptionValues): Pick<ClientConfig, 'routes' | 'rulesFile'> {
  return { routes: routesOf(values), rulesFile: values.get<string>('rules') ?? null };
}

/** --token (or the file's), --token-file's first line, the link's, then SOCKBRIDGE_TOKEN. */
function tokenOf(values: OptionValues, link: ShareLink | null): string {
  const file = values.get<string>('token-file');
  const given = values.get<string>('token');
  if (file !== undefined && given !== undefined && values.source('token') !== 'SOCKBRIDGE_TOKEN') {
    throw values.error('token-file', 'give --token or --token-file, not both');
  }
  // SOCKBRIDGE_TOKEN may hold the relay's comma-separated list: the client takes the first.
  const fromEnv = values.source('token') === 'SOCKBRIDGE_TOKEN' ? given?.split(',').map((item) => item.trim()).find((item) => item.length > 0) : given;
  const fromEnvOrLink = values.source('token') === 'SOCKBRIDGE_TOKEN' || given === undefined ? (link?.token ?? fromEnv) : fromEnv;
  const token = file === undefined ? fromEnvOrLink : readSecret(values.source('token-file'), file);
  if (!token) throw new UsageError('--token: a tunnel token is required (or set SOCKBRIDGE_TOKEN, or give --token-file FILE)');
  return token;
}

function credentialsOf(values: OptionValues): SocksCredentials | null {
  const value = values.get<string>('socks-user');
  if (value === undefined) return null;
  const colon = value.indexOf(':');
  if (colon <= 0) throw values.error('socks-user', 'expected USER:PASS');
  return { username: value.slice(0, colon), password: value.slice(colon + 1) };
}

/** --direct and --block in the order given (first match wins, so order matters). */
function routesOf(values: OptionValues): RoutingRule[] {
  return values.rules('routes').map(({ action, value, source }) => {
    try {
      return ruleFromFlag(action as Route, value);
    } catch (err) {
      if (err instanceof RuleSyntaxError) throw new UsageError(`${source}: ${err.message}`);
      throw err;
    }
  });
}
