import { randomBytes } from 'node:crypto';
import { createLogger } from '../common/log.js';
import { formatHostPort } from '../common/host-port.js';
import { encodeShareLink } from '../common/share-link.js';
import { startClient } from '../client/client.js';
import { startRelay } from '../server/relay.js';
import { parseTargetRule } from '../server/policy/target-rule.js';
import { hostPortFlag, logLevelFlag, parseFlags, untilSignal } from './args.js';

export const DEMO_HELP = `Usage: sockbridge demo [--socks HOST:PORT] [--listen HOST:PORT]

Runs a relay and a client in one process on loopback, with a fresh random token and a
random tunnel path, as --path would be set for a relay a scanner should not find (the demo relay may also reach this machine's own servers, which a real relay refuses),
and prints the SOCKS address, the relay URL, a curl line to try, and the status page's
address with a fresh admin token to log in with.

Options:
  --socks HOST:PORT   SOCKS and HTTP proxy port (default 127.0.0.1:1080; :0 picks a free port)
  --listen HOST:PORT  relay listener (default 127.0.0.1:0, a free port)
  --log-level LEVEL   debug, info, warn, error or silent (default info)
  -h, --help          show this help
`;

export async function demoCommand(argv: string[]): Promise<number> {
  const flags = parseFlags(argv, {
    socks: { type: 'string' },
    listen: { type: 'string' },
    'log-level': { type: 'string' },
  });
  if (flags.help) {
    process.stdout.write(DEMO_HELP);
    return 0;
  }
  const level = logLevelFlag(flags['log-level'] as string | undefined);
  const token = randomBytes(18).toString('base64url');
  const adminToken = randomBytes(18).toString('base64url');
  // A path nobody can guess, as `--path /$(openssl rand -hex 16)` makes one for a real relay.
  const path = `/${randomBytes(16).toString('hex')}`;
  const relay = await startRelay({
    listen: hostPortFlag('--listen', flags.listen as string | undefined, { host: '127.0.0.1', port: 0 }),
    path,
    tokens: [token],
    adminToken,
    // The demo runs on your own machine: let it reach local servers too, which a real relay refuses by default.
    rules: [parseTargetRule('allow', '127.0.0.0/8'), parseTargetRule('allow', '::1/128')],
    logger: createLogger('relay', level),
  });
  const socksAddress = hostPortFlag('--socks', flags.socks as string | undefined, { host: '127.0.0.1', port: 1080 });
  const client = await startClient({ relayUrl: relay.url, token, socks: socksAddress, logger: createLogger('client', level) }).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== 'EADDRINUSE' || flags.socks !== undefined) throw err;
    process.stderr.write(`port ${socksAddress.port} is taken; using a free port instead (choose one with --socks)\n`);
    return startClient({ relayUrl: relay.url, token, socks: { ...socksAddress, port: 0 }, logger: createLogger('client', level) });
  });
  const socks = formatHostPort(client.socksAddress);
  process.stdout.write(
    [
      '',
      'sockbridge demo is running (relay and client on loopback).',
      `  SOCKS address: ${socks}   (SOCKS4, SOCKS4a and SOCKS5; an HTTP proxy on the same port)`,
      `  PAC file:      http://${socks}/proxy.pac`,
      `  relay URL:     ${relay.url}`,
      `  tunnel path:   ${path}   (random; a real relay takes one with --path)`,
      `  share link:    ${encodeShareLink({ relayUrl: relay.url, token, fingerprint: null, host: null, sni: null, label: 'demo' })}`,
      '                 (for sockbridge client --link; it holds the token)',
      `  health:        http://${formatHostPort(relay.address)}/healthz`,
      '',
      // The demo generated this admin token for the local user, so it shows it here, on its
      // own stdout; it never goes to the log.
      `status: ${relay.httpUrl}`,
      `  log in with any user name and the password ${adminToken}`,
      `  or: curl -H 'Authorization: Bearer ${adminToken}' ${relay.httpUrl}api/status`,
      '',
      'Try it:',
      `  curl --socks5-hostname ${socks} https://example.com/`,
      `  https_proxy=http://${socks} curl https://example.com/`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await untilSignal();
  await client.close();
  await relay.close();
  return 0;
}
