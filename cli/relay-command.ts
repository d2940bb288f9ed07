import cluster from 'node:cluster';
import { createLogger, type Logger, type LogLevel } from '../common/log.js';
import { joinCluster } from '../server/cluster/worker-link.js';
import { runRelayPrimary, workersFlag } from './relay-workers.js';
import { startRelay, type Relay } from '../server/relay.js';
import { UsersFileError } from '../server/tunnel/users-file.js';
import { ConfigError } from '../common/config-error.js';
import { TUNNEL_PATH } from '../protocol/frame.js';
import { untilSignal, UsageError } from './args.js';
import { renderHelp } from './options/help.js';
import { resolveOptions, type OptionValues } from './options/parse.js';
import { RELAY_OPTIONS } from './options/relay-options.js';
import { printPublicLinks, publicUrlFlag } from './public-links.js';
import { liveSettings, relaySettings } from './relay-settings.js';

const INTRO = `Usage: sockbridge relay --token TOKEN [options]
       sockbridge relay --users FILE [options]
       sockbridge relay --config FILE [options]

Serves the tunnel at ws://HOST:PORT${TUNNEL_PATH} (or --path) and a health check at /healthz
(wss:// and https:// with --tls-cert and --tls-key). With an admin token it also serves the
status page at /, its API at /api/status and /api/events, and Prometheus metrics at /metrics.
With --admin-listen, /healthz and these are served there instead; with --fallback, never on
the public port. Anything else gets a plain 404, or with --fallback the answer of an ordinary
website.`;

export const RELAY_HELP = renderHelp(INTRO, RELAY_OPTIONS);

export async function relayCommand(argv: string[]): Promise<number> {
  const values = resolveOptions(RELAY_OPTIONS, { argv, env: process.env });
  if (values.help) {
    process.stdout.write(RELAY_HELP);
    return 0;
  }
  const settings = relaySettings(values);
  const publicUrl = publicUrlFlag(values.get<string>('public-url'), values.get<string>('path') as string);
  const graceMs = values.get<number>('grace') as number;
  const logger = createLogger('relay', values.get<LogLevel>('log-level'));
  const workers = workersFlag(values.get<string>('workers'));
  // Printed once, by the process the user started (never by each worker).
  if (publicUrl !== null && cluster.isPrimary) printPublicLinks(publicUrl, settings.tokens, values.get<string>('path') as string, logger);
  if (workers > 1 && cluster.isPrimary) return runRelayPrimary({ ...settings, logger }, workers, logger);
  const worker = cluster.isWorker ? joinCluster(logger) : null;
  const relay = await startRelay({ ...settings, logger }, worker?.relay ?? null).catch((err: unknown) => {
    throw values.named(err);
  });
  worker?.ready();
  const files = reloadedFiles(values);
  // Without a file there is nothing to reload, but a SIGHUP (systemctl reload) must not end the relay.
  const reload = files.length === 0 ? (): void => logger.info('SIGHUP: nothing to reload (no --config, --users or --token-file)') : (): void => reloadSettings(relay, argv, values, logger);
  // The handler goes in before the lines that say the files are loaded: a SIGHUP sent on
  // seeing them must reload, not meet the default action and end the process.
  process.on('SIGHUP', reload);
  worker?.onReload(reload);
  if (values.configFile !== null) logger.info('config loaded', { file: values.configFile });
  if (settings.users) logger.info('users loaded', { file: values.get<string>('users'), users: settings.users.users.length });
  // A worker stops on the signal itself or when the primary says so, whichever comes first.
  const signal = await (worker === null ? untilSignal() : Promise.race([untilSignal(), worker.stopRequested.then(() => 'primary')]));
  process.off('SIGHUP', reload);
  logger.info('stopping: no new tunnels or streams; open streams may finish', { signal, graceMs });
  await relay.close(graceMs);
  return 0;
}

/** The files SIGHUP re-reads: --config, --users, --token-file. */
function reloadedFiles(values: OptionValues): string[] {
  return [values.configFile, values.get<string>('users'), values.get<string>('token-file')].filter((file): file is string => typeof file === 'string');
}

/**
 * SIGHUP: everything is resolved again (command line, config file, environment, and the
 * files they name). The live part replaces the running settings for new tunnels and streams;
 * a changed option that needs a restart is logged as such. Anything invalid is logged and the
 * running settings stay.
 */
function reloadSettings(relay: Relay, argv: string[], started: OptionValues, logger: Logger): void {
  try {
    const next = resolveOptions(RELAY_OPTIONS, { argv, env: process.env });
    const settings = relaySettings(next);
    try {
      relay.reconfigure(liveSettings(settings));
    } catch (err) {
      throw next.named(err);
    }
    const restartOnly = RELAY_OPTIONS.options.filter((spec) => !spec.reloadable).map((spec) => spec.name);
    for (const name of next.changedFrom(started, restartOnly)) {
      logger.warn(`${name}: changed in ${started.configFile ?? 'the environment'}; takes effect after a restart`);
    }
    if (settings.users) logger.info('users reloaded', { users: settings.users.users.length });
    logger.info('settings reloaded', { file: started.configFile ?? undefined, tokens: settings.tokens.length, rules: settings.rules?.length ?? 0 });
  } catch (err) {
    // In a signal handler nothing may escape: whatever went wrong, the running settings stay.
    const message = err instanceof UsageError || err instanceof ConfigError ? err.message : (err as Error).message;
    const usersFile = err instanceof UsersFileError ? err.file : started.configFile === null ? started.get<string>('users') : undefined;
    if (usersFile !== undefined) {
      logger.error('users not reloaded, keeping the previous users', { file: usersFile, error: message });
    } else {
      logger.error('settings not reloaded, keeping the running settings', { file: started.configFile ?? undefined, error: message });
    }
  }
}
