/** The table from a failure (SOCKS reply and errno or stable name) to a Wisp CLOSE reason. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { replyForErrno } from '../../common/errno-replies.js';
import { ReplyCode } from '../../protocol/frame.js';
import { ErrorReason } from '../../server/status/error-reasons.js';
import { wispCloseReasonFor } from '../../server/wisp/close-reasons.js';

/** [reason, expected close]: the reply is what the tunnel's table gives the same failure. */
const CASES: ReadonlyArray<[string, number]> = [
  ['ECONNREFUSED', 0x44],
  ['ENOTFOUND', 0x42],
  ['EAI_AGAIN', 0x42],
  ['EHOSTUNREACH', 0x42],
  ['ENETUNREACH', 0x42],
  ['ETIMEDOUT', 0x43],
  [ErrorReason.PolicyRefused, 0x48],
  ['EACCES', 0x48],
  [ErrorReason.StreamsPerTunnel, 0x49],
  [ErrorReason.UdpPerTunnel, 0x49],
  [ErrorReason.PendingBytesPerTunnel, 0x49],
  [ErrorReason.ShuttingDown, 0x49],
  [ErrorReason.UnknownDialError, 0x01],
];

describe('wisp close reasons', () => {
  for (const [reason, close] of CASES) {
    it(`${reason} → 0x${close.toString(16)}`, () => {
      assert.equal(wispCloseReasonFor(replyForErrno(reason), reason), close);
    });
  }

  it('maps requests refused before any dial to 0x41 (invalid information)', () => {
    assert.equal(wispCloseReasonFor(ReplyCode.CommandNotSupported, ErrorReason.CommandNotSupported), 0x41);
    assert.equal(wispCloseReasonFor(ReplyCode.AddressTypeNotSupported, ErrorReason.WispBadPacket), 0x41);
  });
});
