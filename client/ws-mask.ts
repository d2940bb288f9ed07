/**
 * The masking key of the client's WebSocket frames. RFC 6455 §10.3 has clients mask so that
 * an intermediary reading the cleartext cannot be fed bytes that look like HTTP to it; inside
 * TLS (wss://) no intermediary reads them, so masking protects nobody and only costs a copy of
 * every frame on the client and an unmasking pass on the relay. `ws` skips both for an all-zero
 * key, the masking key its documented `generateMask` option fills. Plain ws:// keeps random keys.
 */

/** Fills a frame's 4-byte masking key with zeros: `ws` then neither masks nor unmasks. */
function zeroMask(mask: Buffer): void {
  mask.fill(0);
}

/** The `ws` client options for masking over `relayUrl`: a zero key inside TLS, ws's random keys otherwise. */
export function maskingFor(relayUrl: string): { generateMask?: (mask: Buffer) => void } {
  return new URL(relayUrl).protocol === 'wss:' ? { generateMask: zeroMask } : {};
}
