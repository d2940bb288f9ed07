/**
 * Records every UdpRelay the client opens, so tests can read its drop counters: the
 * relay is created inside a SOCKS connection and nothing else holds it. Wraps the static
 * factory and puts it back on restore().
 */
import { UdpRelay } from '../../../client/socks/udp-relay.js';

export interface UdpRelaySpy {
  readonly relays: UdpRelay[];
  /** The relay opened most recently. */
  latest(): UdpRelay;
  restore(): void;
}

export function spyOnUdpRelays(): UdpRelaySpy {
  const original = UdpRelay.open;
  const relays: UdpRelay[] = [];
  UdpRelay.open = async (...args: Parameters<typeof UdpRelay.open>): Promise<UdpRelay> => {
    const relay = await original.apply(UdpRelay, args);
    relays.push(relay);
    return relay;
  };
  return {
    relays,
    latest() {
      const relay = relays[relays.length - 1];
      if (!relay) throw new Error('no UdpRelay was opened');
      return relay;
    },
    restore() {
      UdpRelay.open = original;
    },
  };
}
