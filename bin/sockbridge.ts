#!/usr/bin/env node
/** The sockbridge command: `relay`, `client`, `demo` or `hash-token`. */
import { UsageError } from '../cli/args.js';
import { clientCommand } from '../cli/client-command.js';
import { demoCommand } from '../cli/demo-command.js';
import { hashTokenCommand } from '../cli/hash-token-command.js';
import { relayCommand } from '../cli/relay-command.js';
import { ConfigError } from '../server/config.js';

const USAGE = `Usage: sockbridge <command> [options]

Commands:
  relay    run the relay: accepts tunnels and connects out to targets
  client   run the local SOCKS4/4a/5 listener that tunnels to a relay
  demo     run both on loopback, for a first try
  hash-token  print the SHA-256 of a token read from stdin, for a --users file

Run "sockbridge <command> --help" for a command's options.
`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  relay: relayCommand,
  client: clientCommand,
  demo: demoCommand,
  'hash-token': hashTokenCommand,
};

const EXIT_USAGE = 2;
const EXIT_FAILURE = 1;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? EXIT_USAGE : 0;
  }
  const command = COMMANDS[name];
  if (!command) throw new UsageError(`unknown command "${name}" (expected relay, client, demo or hash-token)`);
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error & { code?: string }) => {
    if (err instanceof UsageError || err instanceof ConfigError) {
      process.stderr.write(`sockbridge: ${err.message}\n`);
      process.exit(EXIT_USAGE);
    }
    const hint = err.code === 'EADDRINUSE' ? ' (the address is in use: pick another with --listen or --socks)' : '';
    process.stderr.write(`sockbridge: ${err.message}${hint}\n`);
    process.exit(EXIT_FAILURE);
  },
);
