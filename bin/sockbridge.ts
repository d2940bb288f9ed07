#!/usr/bin/env node
/** The sockbridge command: `relay`, `client`, `demo`, `link` or `hash-token`. */
import { UsageError } from '../cli/args.js';
import { ConfigError } from '../common/config-error.js';
import { tuneGarbageCollector } from '../common/gc-tuning.js';
import { warmUpMalloc } from '../common/malloc-warmup.js';

const USAGE = `Usage: sockbridge <command> [options]

Commands:
  relay    run the relay: accepts tunnels and connects out to targets
  client   run the local SOCKS4/4a/5 listener that tunnels to a relay
  demo     run both on loopback, for a first try
  link     print a sockbridge:// share link for "client --link"
  hash-token  print the SHA-256 of a token read from stdin, for a --users file

Run "sockbridge <command> --help" for a command's options.
`;

type Command = (argv: string[]) => Promise<number>;

/**
 * Each command loads only its own code: a client process then never holds the relay's
 * modules (Hono, prom-client, the status model). A smaller heap makes every full GC cheaper,
 * and bulk transfers trigger many (each 64 KiB socket read is a fresh external buffer).
 */
const COMMANDS: Record<string, () => Promise<Command>> = {
  relay: async () => (await import('../cli/relay-command.js')).relayCommand,
  client: async () => (await import('../cli/client-command.js')).clientCommand,
  demo: async () => (await import('../cli/demo-command.js')).demoCommand,
  link: async () => (await import('../cli/link-command.js')).linkCommand,
  'hash-token': async () => (await import('../cli/hash-token-command.js')).hashTokenCommand,
};

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const loadCommand = COMMANDS[name];
  if (!loadCommand) throw new UsageError(`unknown command "${name}" (expected relay, client, demo, link or hash-token)`);
  const command = await loadCommand();
  return command(rest);
}

tuneGarbageCollector();
warmUpMalloc();
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error & { code?: string }) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`sockbridge: ${err.message}\n`);
      process.exit(EXIT_USAGE);
    }
    const hint = err.code === 'EADDRINUSE' ? ' (the address is in use: pick another with --listen, --admin-listen, --socks or --dns-listen)' : '';
    process.stderr.write(`sockbridge: ${err.message}${hint}\n`);
    process.exit(EXIT_FAILURE);
  },
);
