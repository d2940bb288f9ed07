/**
 * The system under test: a relay process and a client process joined by one tunnel.
 * A fresh pair per scenario, so one scenario's leftovers never weigh on the next.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startNode, type Managed } from './processes.js';
import type { HostPort } from './socks5.js';
import type { BenchCert } from './tls-cert.js';

export interface Stack {
  relay: Managed;
  /** The second relay of a two-relay stack (StackOptions.spareRelay), which a scenario may kill; null without. */
  spare: Managed | null;
  client: Managed;
  socks: HostPort;
  /** Why the stack is unusable, or null while both processes run. */
  problem(): string | null;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

export interface StackOptions {
  /** dist/bin/sockbridge.js */
  cli: string;
  /** Where to write --cpu-prof profiles; null for none. */
  cpuProfileDir: string | null;
  /** Names the profile files. */
  label: string;
  /** Something to put between client and relay (the link emulator): given the relay's port, what the client dials instead. */
  between?: (relayPort: number) => Promise<StackMiddle>;
  /** More flags for the client (e.g. --fast-open never). */
  clientArgs?: readonly string[];
  /** Serve wss:// with this certificate; the client pins it with --fingerprint. */
  tls?: BenchCert;
  /** Start a second relay, given to the client as a second --relay (figure 15 kills it). */
  spareRelay?: boolean;
}

export interface StackMiddle {
  proc: Managed;
  port: number;
  stop(): Promise<void>;
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const token = randomBytes(16).toString('hex');
  const profile = (who: string): string[] =>
    options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`, `--cpu-prof-name=${options.label}-${who}.cpuprofile`] : [];
  const tlsArgs = options.tls ? ['--tls-cert', options.tls.certFile, '--tls-key', options.tls.keyFile] : [];
  const relay = startNode('relay', options.cli, ['relay', '--listen', '127.0.0.1:0', '--token', token, '--allow', '127.0.0.0/8', ...tlsArgs], profile('relay'));
  let client: Managed | null = null;
  let middle: StackMiddle | null = null;
  const spare = options.spareRelay ? startNode('spare relay', options.cli, ['relay', '--listen', '127.0.0.1:0', '--token', token, '--allow', '127.0.0.0/8']) : null;
  try {
    const [, relayPort] = await relay.waitForLine(/relay listening address=127\.0\.0\.1:(\d+)/, START_TIMEOUT_MS);
    const spareArgs = spare ? ['--relay', `ws://127.0.0.1:${(await spare.waitForLine(/relay listening address=127\.0\.0\.1:(\d+)/, START_TIMEOUT_MS))[1]}/tunnel`] : [];
    middle = options.between ? await options.between(Number(relayPort)) : null;
    client = startNode(
      'client',
      options.cli,
      [
        'client',
        '--relay',
        `${options.tls ? 'wss' : 'ws'}://127.0.0.1:${middle?.port ?? relayPort}/tunnel`,
        ...spareArgs,
        ...(options.tls ? ['--fingerprint', options.tls.fingerprint] : []),
        '--token',
        token,
        '--socks',
        '127.0.0.1:0',
        ...(options.clientArgs ?? []),
      ],
      profile('client'),
    );
    const [, socksHost, socksPort] = await client.waitForLine(/SOCKS listening address=([\d.]+):(\d+)/, START_TIMEOUT_MS);
    await client.waitForLine(/tunnel up/, START_TIMEOUT_MS);
    const both = client;
    const watched = middle ? [relay, both, middle.proc] : [relay, both];
    const between = middle;
    return {
      relay,
      spare,
      client: both,
      socks: { host: socksHost, port: Number(socksPort) },
      problem() {
        for (const proc of watched) {
          if (!proc.isAlive()) return `${proc.name} exited (${proc.exitStatus()}); its last output: ${lastLines(proc)}`;
        }
        return null;
      },
      async stop() {
        await Promise.all([both.stop(), relay.stop(), between?.stop(), spare?.stop()]);
      },
    };
  } catch (err) {
    await Promise.all([client?.stop(), relay.stop(), middle?.stop(), spare?.stop()]);
    throw err;
  }
}

function lastLines(proc: Managed): string {
  return proc.tail().split('\n').slice(-3).join(' | ');
}

export function cliPath(distDir: string): string {
  return join(distDir, 'bin', 'sockbridge.js');
}
