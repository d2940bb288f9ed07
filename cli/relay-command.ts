import { createLogger } from '../common/log.js';
import { RELAY_DEFAULTS } from '../server/config.js';
import { startRelay } from '../server/relay.js';
import { hostPortFlag, portRangeFlag, logLevelFlag, parseFlags, secondsFlag, tokensFrom, untilSignal, UsageError } from './args.js';

export const RELAY_HELP = `Usage: sockbridge relay --token TOKEN [options]

Serves the tunnel at ws://HOST:PORT/tunnel and a health check at /healthz.

Options:
  --listen HOST:PORT          address to listen on (default 127.0.0.1:8080)
  --token TOKEN               a tunnel token clients must present; repeat for several
                              (default: env SOCKBRIDGE_TOKEN, comma-separated)
  --dial-timeout SECONDS      how long a connect to a target may take (default 10)
  --keepalive-interval SECONDS  ping period (default 15)
  --keepalive-timeout SECONDS   silence after which a tunnel is dead (default 30)
  --public-address HOST       address announced in BIND replies (default: the relay's
                              local address toward the expected peer)
  --bind-ports LOW-HIGH       ports BIND may listen on (default: any free port)
  --bind-timeout SECONDS      how long a BIND waits for its connection (default 120)
  --log-level LEVEL           debug, info, warn, error or silent (default info)
  -h, --help                  show this help
`;

export async function relayCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    listen: { type: 'string' },
    token: { type: 'string', multiple: true },
    'dial-timeout': { type: 'string' },
    'keepalive-interval': { type: 'string' },
    'keepalive-timeout': { type: 'string' },
    'public-address': { type: 'string' },
    'bind-ports': { type: 'string' },
    'bind-timeout': { type: 'string' },
    'log-level': { type: 'string' },
  });
  if (flags.help) {
    process.stdout.write(RELAY_HELP);
    return 0;
  }
  const tokens = tokensFrom(flags.token as string[] | undefined);
  if (tokens.length === 0) throw new UsageError('--token: a tunnel token is required (or set SOCKBRIDGE_TOKEN)');
  const logger = createLogger('relay', logLevelFlag(flags['log-level'] as string | undefined));
  const relay = await startRelay({
    listen: hostPortFlag('--listen', flags.listen as string | undefined, RELAY_DEFAULTS.listen),
    tokens,
    dialTimeoutMs: secondsFlag('--dial-timeout', flags['dial-timeout'] as string | undefined, RELAY_DEFAULTS.dialTimeoutMs),
    keepaliveIntervalMs: secondsFlag('--keepalive-interval', flags['keepalive-interval'] as string | undefined, RELAY_DEFAULTS.keepaliveIntervalMs),
    keepaliveTimeoutMs: secondsFlag('--keepalive-timeout', flags['keepalive-timeout'] as string | undefined, RELAY_DEFAULTS.keepaliveTimeoutMs),
    publicAddress: (flags['public-address'] as string | undefined) ?? null,
    bindPorts: portRangeFlag('--bind-ports', flags['bind-ports'] as string | undefined),
    bindTimeoutMs: secondsFlag('--bind-timeout', flags['bind-timeout'] as string | undefined, RELAY_DEFAULTS.bindTimeoutMs),
    logger,
  });
  const signal = await untilSignal();
  logger.info('stopping', { signal });
  await relay.close();
  return 0;
}
