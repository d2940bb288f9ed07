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
  /** With `clients` > 1: the other client processes and their SOCKS listeners. */
  moreClients: Managed[];
  moreSocks: HostPort[];
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
  /** More flags for the relay (e.g. --workers 2). */
  relayArgs?: readonly string[];
  /** Client processes, each with its own tunnel (default 1). */
  clients?: number;
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
  const relay = startNode('relay', options.cli, ['relay', '--listen', '127.0.0.1:0', '--token', token, '--allow', '127.0.0.0/8', ...tlsArgs, ...(options.relayArgs ?? [])], profile('relay'));
  let client: Managed | null = null;
  const moreClients: Managed[] = [];
  let middle: StackMiddle | null = null;
  const spare = options.spareRelay ? startNode('spare relay', options.cli, ['relay', '--listen', '127.0.0.1:0', '--token', token, '--allow', '127.0.0.0/8']) : null;
  try {
    const [, relayPort] = await relay.waitForLine(/relay listening address=127\.0\.0\.1:(\d+)/, START_TIMEOUT_MS);
    // With --workers N, every worker must listen before the clients come, or they all meet the first.
    if (options.relayArgs?.includes('--workers')) await relay.waitForLine(/relay workers ready/, START_TIMEOUT_MS);
    // The spare relay is the client's second --relay (figure 15 kills it).
    const spareArgs = spare ? ['--relay', `ws://127.0.0.1:${(await spare.waitForLine(/relay listening address=127\.0\.0\.1:(\d+)/, START_TIMEOUT_MS))[1]}/tunnel`] : [];
    middle = options.between ? await options.between(Number(relayPort)) : null;
    const clientArgs = [
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
    ];
    client = startNode('client', options.cli, clientArgs, profile('client'));
    const socks = await clientReady(client);
    for (let i = 1; i < (options.clients ?? 1); i++) moreClients.push(startNode(`client ${i + 1}`, options.cli, clientArgs, profile(`client${i + 1}`)));
    const moreSocks = await Promise.all(moreClients.map(clientReady));
    const both = client;
    const watched = [relay, both, ...moreClients, ...(middle ? [middle.proc] : [])];
    const between = middle;
    return {
      relay,
      spare,
      client: both,
      socks,
      moreClients,
      moreSocks,
      problem() {
        for (const proc of watched) {
          if (!proc.isAlive()) return `${proc.name} exited (${proc.exitStatus()}); its last output: ${lastLines(proc)}`;
        }
        return null;
      },
      async stop() {
        await Promise.all([both.stop(), ...moreClients.map((c) => c.stop()), relay.stop(), between?.stop(), spare?.stop()]);
      },
    };
  } catch (err) {
    await Promise.all([client?.stop(), ...moreClients.map((c) => c.stop()), relay.stop(), middle?.stop(), spare?.stop()]);
    throw err;
  }
}

/** The client's SOCKS listener, once its tunnel is up. */
async function clientReady(client: Managed): Promise<HostPort> {
  const [, host, port] = await client.waitForLine(/SOCKS listening address=([\d.]+):(\d+)/, START_TIMEOUT_MS);
  await client.waitForLine(/tunnel up/, START_TIMEOUT_MS);
  return { host, port: Number(port) };
}

function lastLines(proc: Managed): string {
  return proc.tail().split('\n').slice(-3).join(' | ');
}

export function cliPath(distDir: string): string {
  return join(distDir, 'bin', 'sockbridge.js');
}
