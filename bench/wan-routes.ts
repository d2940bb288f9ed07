/**
 * Routes across an emulated long link (link-emulator.ts), each with its own emulator
 * process: the tunnel, with the link between client and relay (the WebSocket's TCP
 * connection crosses it), and the reference, a plain TCP connection from the load
 * generator through the same kind of link to the same targets.
 */
import { startLinkProcess, type LinkProcess } from './link-process.js';
import type { LinkOptions } from './link-emulator.js';
import { TARGET_HOST, type Route } from './route.js';
import type { StackMiddle } from './stack.js';

/** The link's shape, whatever sits at its ends. */
export type LinkSettings = Omit<LinkOptions, 'upstreams' | 'listenPort'>;

/** For StackOptions.between: an emulator whose upstream is the relay. */
export function linkToRelay(script: string, link: LinkSettings): (relayPort: number) => Promise<StackMiddle> {
  return (relayPort) => startLinkProcess('link emulator', script, { ...link, upstreams: [{ host: TARGET_HOST, port: relayPort }] });
}

export interface ReferenceAcrossLink {
  route: Route;
  link: LinkProcess;
  stop(): Promise<void>;
}

/** A 'forwarded' route whose entries cross one emulator (all target ports share its link). */
export async function startReferenceAcrossLink(script: string, link: LinkSettings, targetPorts: readonly number[]): Promise<ReferenceAcrossLink> {
  const emulator = await startLinkProcess('link emulator (reference)', script, {
    ...link,
    upstreams: targetPorts.map((port) => ({ host: TARGET_HOST, port })),
  });
  return { route: { mode: 'forwarded', entries: emulator.entries }, link: emulator, stop: () => emulator.stop() };
}

/** Link settings for a round trip over a rate, with the default in-flight bound unless given. */
export function linkFor(rttMs: number, rateBytesPerSecond: number, maxInflightBytes: number): LinkSettings {
  return { delayMs: rttMs / 2, rateBytesPerSecond, maxInflightBytes };
}
