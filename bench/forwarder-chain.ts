/**
 * The bench's reference route: two plain Node TCP forwarders in series, each its own
 * process, between the load generator and the targets. No SOCKS, no WebSocket, no
 * multiplexing: what two Node processes cost just to pass bytes on over loopback. The
 * tunnel is also two Node processes (client and relay), so this is the floor its figures
 * start from on the same machine.
 *
 * Figure 2 also runs through a SOCKS chain: socks-forwarder.js (which answers the SOCKS5
 * handshake at once) in front of one plain forwarder, so that its floor includes the two
 * handshake round trips the load generator waits for, as the tunnel's figure does.
 */
import { startNode, type Managed } from './processes.js';
import type { HostPort } from './socks5.js';
import { TARGET_HOST } from './route.js';

const START_TIMEOUT_MS = 10_000;

export interface ForwarderChain {
  /** Target port → the port that reaches it through both forwarders. */
  entries: Record<string, number>;
  stop(): Promise<void>;
}

interface Forwarder {
  proc: Managed;
  /** Upstream port → the port this forwarder listens on for it. */
  entries: Record<string, number>;
}

async function startForwarder(name: string, script: string, upstreams: number[]): Promise<Forwarder> {
  const proc = startNode(name, script, upstreams.map(String));
  try {
    const [, json] = await proc.waitForLine(/^forwarder (\{.*\})$/, START_TIMEOUT_MS);
    return { proc, entries: JSON.parse(json) as Record<string, number> };
  } catch (err) {
    await proc.stop();
    throw err;
  }
}

export async function startForwarderChain(script: string, targetPorts: number[]): Promise<ForwarderChain> {
  const far = await startForwarder('forwarder 2', script, targetPorts);
  let near: Forwarder;
  try {
    near = await startForwarder('forwarder 1', script, Object.values(far.entries));
  } catch (err) {
    await far.proc.stop();
    throw err;
  }
  const entries: Record<string, number> = {};
  for (const target of targetPorts) entries[target] = near.entries[far.entries[target]];
  return {
    entries,
    async stop() {
      await Promise.all([near.proc.stop(), far.proc.stop()]);
    },
  };
}

export interface SocksChain {
  /** The SOCKS5 front's listener. */
  socks: HostPort;
  stop(): Promise<void>;
}

export async function startSocksChain(forwarderScript: string, socksScript: string, targetPorts: number[]): Promise<SocksChain> {
  const far = await startForwarder('forwarder 2', forwarderScript, targetPorts);
  const mappings = targetPorts.map((target) => `${target}=${far.entries[target]}`);
  const front = startNode('socks forwarder', socksScript, mappings);
  try {
    const [, json] = await front.waitForLine(/^socks forwarder (\{.*\})$/, START_TIMEOUT_MS);
    const { port } = JSON.parse(json) as { port: number };
    return {
      socks: { host: TARGET_HOST, port },
      async stop() {
        await Promise.all([front.stop(), far.proc.stop()]);
      },
    };
  } catch (err) {
    await Promise.all([front.stop(), far.proc.stop()]);
    throw err;
  }
}
