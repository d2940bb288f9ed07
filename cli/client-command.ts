import { createLogger, type LogLevel } from '../common/log.js';
import { TUNNEL_PATH } from '../protocol/frame.js';
import { startClient } from '../client/client.js';
import type { Client } from '../client/client.js';
import { RulesFileError } from '../client/outbound/rules-file.js';
import { ConfigError } from '../common/config-error.js';
import type { Logger } from '../common/log.js';
import { untilSignal, UsageError } from './args.js';
import { clientSettings, routingOf, shareLinkOf } from './client-settings.js';
import { CLIENT_OPTIONS } from './options/client-options.js';
import { renderHelp } from './options/help.js';
import { resolveOptions, type OptionValues } from './options/parse.js';

const INTRO = `Usage: sockbridge client --relay ws[s]://HOST:PORT${TUNNEL_PATH} --token TOKEN [options]
       sockbridge client --link sockbridge://… [options]
       sockbridge client --config FILE [options]

Opens one port for SOCKS4/4a/5 and HTTP proxy clients (CONNECT, http:// requests, and the PAC
file at /proxy.pac) and carries every connection over one WebSocket to the relay.`;

export const CLIENT_HELP = renderHelp(INTRO, CLIENT_OPTIONS);

export async function clientCommand(argv: string[]): Promise<number> {
  const values = resolveOptions(CLIENT_OPTIONS, { argv, env: process.env });
  if (values.help) {
    process.stdout.write(CLIENT_HELP);
    return 0;
  }
  const link = shareLinkOf(values);
  const settings = clientSettings(values, link);
  const graceMs = values.get<number>('grace') as number;
  const logger = createLogger('client', values.get<LogLevel>('log-level'));
  const client = await startClient({ ...settings, logger }).catch((err: unknown) => {
    throw values.named(err);
  });
  const rulesFile = settings.rulesFile ?? undefined;
  const reload = (): void => reloadRules(client, argv, values, logger);
  const nothingToReload = (): void => logger.info('SIGHUP: nothing to reload (no --rules or --config file)');
  // Installed before the line saying the rules are loaded, so a SIGHUP sent on seeing it is handled.
  // Without a file there is nothing to reload, but a SIGHUP (systemctl reload) must not end the client.
  const onSighup = rulesFile !== undefined || values.configFile !== null ? reload : nothingToReload;
  process.on('SIGHUP', onSighup);
  if (values.configFile !== null) logger.info('config loaded', { file: values.configFile });
  if (rulesFile !== undefined) logger.info('rules loaded', { file: rulesFile });
  // The relay URL and the label only: the link itself holds the token.
  if (link !== null) logger.info('using a share link', { relay: [link.relayUrl, ...(link.alsoRelayUrls ?? [])].join(' '), label: link.label ?? undefined });
  const signal = await untilSignal();
  process.off('SIGHUP', onSighup);
  logger.info('stopping: no new SOCKS connections; open ones may finish', { signal, graceMs });
  await client.close(graceMs);
  return 0;
}

/**
 * SIGHUP: a valid rules file (and, with --config, the file's --direct/--block and rules file)
 * replaces the rules for new connections; anything invalid is logged and the old rules stay.
 * Other options need a restart; a changed one is logged as such.
 */
function reloadRules(client: Client, argv: string[], started: OptionValues, logger: Logger): void {
  const file = started.get<string>('rules');
  try {
    let changes;
    if (started.configFile !== null) {
      const next = resolveOptions(CLIENT_OPTIONS, { argv, env: process.env });
      changes = routingOf(next);
      const restartOnly = CLIENT_OPTIONS.options.filter((spec) => !spec.reloadable).map((spec) => spec.name);
      for (const name of next.changedFrom(started, restartOnly)) logger.warn(`${name}: changed in ${started.configFile}; takes effect after a restart`);
    }
    const rules = client.reloadRules(changes);
    logger.info('rules reloaded', { file: changes?.rulesFile ?? file, rules, ...client.routeCounts() });
  } catch (err) {
    // In a signal handler nothing may escape: whatever went wrong, the old rules keep routing.
    const known = err instanceof RulesFileError || err instanceof UsageError || err instanceof ConfigError;
    const message = known ? (err as Error).message : `--rules ${file}: ${(err as Error).message}`;
    logger.error('rules not reloaded, keeping the previous rules', { file: file ?? started.configFile ?? undefined, error: message });
  }
}
