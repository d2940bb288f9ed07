/**
 * The relay's resolved options (cli/options/) turned into its settings, files read: the
 * tokens with --token-file's, the users file, --allow/--deny in order, the TLS pair. Run at
 * start and again on SIGHUP; `liveSettings` is the part a running relay takes on.
 */
import type { RelayConfig } from '../server/config.js';
import { LIVE_SETTINGS, type LiveRelaySettings } from '../server/relay.js';
import { parseTargetRule, RuleSyntaxError, type RuleAction, type TargetRule } from '../server/policy/target-rule.js';
import { loadUsersFile } from '../server/tunnel/users-file.js';
import type { PortRange } from '../common/port-range.js';
import type { Address } from '../protocol/frame.js';
import type { UdpReplyFilter } from '../server/dialers/udp.js';
import { UsageError } from './args.js';
import type { OptionValues } from './options/parse.js';
import { readSecret, readSecretLines } from './secret-files.js';
import { relayTlsFlags } from './tls-flags.js';

export type RelaySettings = Partial<RelayConfig> & { tokens: string[] };

export function relaySettings(values: OptionValues): RelaySettings {
  const tokens = tokensOf(values);
  const usersPath = values.get<string>('users');
  if (tokens.length === 0 && usersPath === undefined) {
    throw new UsageError('--token: a tunnel token is required (or set SOCKBRIDGE_TOKEN, or give --token-file FILE or --users FILE)');
  }
  const adminListen = values.get<Address>('admin-listen');
  return {
    listen: values.get<Address>('listen'),
    path: values.get<string>('path'),
    fallback: values.get<string>('fallback') ?? null,
    wisp: values.get<boolean>('wisp') ?? false,
    wispUdp: values.get<boolean>('wisp-udp') ?? false,
    adminListen: adminListen ?? null,
    tokens,
    // A bad file is a UsersFileError (a ConfigError): one line naming the field, exit 2.
    users: usersPath === undefined ? null : loadUsersFile(usersPath),
    dialTimeoutMs: values.get<number>('dial-timeout'),
    keepaliveIntervalMs: values.get<number>('keepalive-interval'),
    keepaliveTimeoutMs: values.get<number>('keepalive-timeout'),
    publicAddress: values.get<string>('public-address') ?? null,
    bindPorts: values.get<PortRange>('bind-ports') ?? null,
    bindTimeoutMs: values.get<number>('bind-timeout'),
    adminToken: adminTokenOf(values),
    tls: relayTlsFlags(values.get<string>('tls-cert'), values.get<string>('tls-key')),
    rules: rulesOf(values),
    maxStreamsPerTunnel: values.get<number>('max-streams'),
    maxBindsPerTunnel: values.get<number>('max-binds'),
    maxUdpPerTunnel: values.get<number>('max-udp'),
    udpReplies: values.get<UdpReplyFilter>('udp-replies'),
    maxTunnelsPerToken: values.get<number>('max-tunnels-per-token'),
    handshakeTimeoutMs: values.get<number>('handshake-timeout'),
    idleTimeoutMs: values.get<number>('idle-timeout'),
    maxPendingBytes: values.get<number>('max-pending-bytes'),
    maxFrameSize: values.get<number>('max-frame-size'),
    windowBudget: values.get<number>('window-budget'),
    maxStreamWindow: values.get<number>('max-stream-window'),
  };
}

/** What SIGHUP may change in a running relay: who gets in, where they may go, the limits. */
export function liveSettings(settings: RelaySettings): LiveRelaySettings {
  const live = Object.fromEntries(LIVE_SETTINGS.map((key) => [key, settings[key]])) as LiveRelaySettings;
  // Unset means none: a reload that drops the users file or every rule must clear them.
  return { ...live, users: settings.users ?? null, rules: settings.rules ?? [] };
}

/** --token (or the file's token list, or SOCKBRIDGE_TOKEN), then --token-file's lines. */
function tokensOf(values: OptionValues): string[] {
  const tokens = [...(values.get<string[]>('token') ?? [])];
  const file = values.get<string>('token-file');
  if (file !== undefined) tokens.push(...readSecretLines(values.source('token-file'), file));
  return tokens;
}

/** --admin-token (or SOCKBRIDGE_ADMIN_TOKEN) or --admin-token-file; null when neither is set. */
function adminTokenOf(values: OptionValues): string | null {
  const file = values.get<string>('admin-token-file');
  const given = values.get<string>('admin-token');
  if (file !== undefined && given !== undefined && values.source('admin-token') !== 'SOCKBRIDGE_ADMIN_TOKEN') {
    throw values.error('admin-token-file', 'give --admin-token or --admin-token-file, not both');
  }
  const value = file === undefined ? given : readSecret(values.source('admin-token-file'), file);
  if (value === undefined) return null;
  if (value.trim().length === 0) throw values.error('admin-token', 'the admin token must not be empty');
  return value;
}

/** --allow and --deny in the order given (first match wins, so order matters). */
function rulesOf(values: OptionValues): TargetRule[] {
  return values.rules('rules').map(({ action, value, source }) => {
    try {
      return parseTargetRule(action as RuleAction, value);
    } catch (err) {
      if (err instanceof RuleSyntaxError) throw new UsageError(`${source}: ${err.message}`);
      throw err;
    }
  });
}
