/**
 * The HTTP proxy's pure parts: the request-target forms it accepts, the hop-by-hop headers
 * it drops, and the Basic credentials it checks. Tables of inputs and what comes out.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { endToEndHeaders } from '../../client/http/hop-by-hop.js';
import { answerForReply, HttpStatus } from '../../client/http/http-replies.js';
import { proxyAuthorized } from '../../client/http/proxy-auth.js';
import { parseBasicAuth } from '../../common/basic-auth.js';
import { parseAbsoluteForm, parseAuthority } from '../../client/http/request-target.js';
import { ReplyCode } from '../../protocol/frame.js';

describe('absolute-form request targets (RFC 9112 §3.2.2)', () => {
  const accepted: Array<[string, { host: string; port: number; authority: string; path: string }]> = [
    ['http://example.com/a/b?c=d', { host: 'example.com', port: 80, authority: 'example.com', path: '/a/b?c=d' }],
    ['http://example.com', { host: 'example.com', port: 80, authority: 'example.com', path: '/' }],
    ['http://example.com?q', { host: 'example.com', port: 80, authority: 'example.com', path: '/?q' }],
    ['HTTP://Example.com:8080/x', { host: 'Example.com', port: 8080, authority: 'Example.com:8080', path: '/x' }],
    ['http://127.0.0.1:9/%2e%2e/./a', { host: '127.0.0.1', port: 9, authority: '127.0.0.1:9', path: '/%2e%2e/./a' }],
    ['http://[::1]:81/', { host: '::1', port: 81, authority: '[::1]:81', path: '/' }],
    ['http://user:pw@example.com/', { host: 'example.com', port: 80, authority: 'example.com', path: '/' }],
    ['http://example.com/p#fragment', { host: 'example.com', port: 80, authority: 'example.com', path: '/p' }],
  ];
  for (const [text, want] of accepted) {
    test(`${text} → ${want.host} port ${want.port}, path ${want.path}`, () => {
      const parsed = parseAbsoluteForm(text);
      assert.deepEqual(parsed, { target: { host: want.host, port: want.port }, authority: want.authority, path: want.path });
    });
  }
  const refused = ['https://example.com/', 'ftp://example.com/', '/relative', 'http:///path', 'http://exa mple.com/', 'http://example.com:0/', 'http://example.com:65536/', 'http://[::1/', 'example.com:80'];
  for (const text of refused) {
    test(`refuses ${JSON.stringify(text)}`, () => assert.equal(parseAbsoluteForm(text), null));
  }
});

describe('authority-form CONNECT targets (RFC 9112 §3.2.3)', () => {
  test('host:port, [v6]:port', () => {
    assert.deepEqual(parseAuthority('example.com:443'), { host: 'example.com', port: 443 });
    assert.deepEqual(parseAuthority('10.0.0.1:22'), { host: '10.0.0.1', port: 22 });
    assert.deepEqual(parseAuthority('[2001:db8::1]:8443'), { host: '2001:db8::1', port: 8443 });
  });
  test('a port is required, and must be 1-65535', () => {
    for (const text of ['example.com', 'example.com:', 'example.com:0', 'example.com:70000', '[::1]', ':443', 'a b:443', `${'a'.repeat(256)}:1`]) {
      assert.equal(parseAuthority(text), null, text);
    }
  });
});

describe('hop-by-hop headers (RFC 9110 §7.6.1)', () => {
  test('drops the fixed set and every header Connection names, keeping order, case and repeats', () => {
    const raw = [
      'Host', 'a.example',
      'Proxy-Connection', 'keep-alive',
      'Proxy-Authorization', 'Basic dTpw',
      'Connection', 'keep-alive, X-Hop',
      'connection', 'Upgrade',
      'Upgrade', 'h2c',
      'X-Hop', 'dropped',
      'Keep-Alive', 'timeout=5',
      'TE', 'trailers',
      'Transfer-Encoding', 'chunked',
      'Accept', 'text/html',
      'X-Kept', '1',
      'x-kept', '2',
    ];
    assert.deepEqual(endToEndHeaders(raw, ['host']), ['Accept', 'text/html', 'X-Kept', '1', 'x-kept', '2']);
  });
  test('without hop-by-hop headers nothing changes', () => {
    const raw = ['Content-Type', 'text/plain', 'Content-Length', '3'];
    assert.deepEqual(endToEndHeaders(raw), raw);
  });
});

describe('Basic proxy credentials (RFC 7617)', () => {
  const header = (text: string): string => `Basic ${Buffer.from(text, 'utf8').toString('base64')}`;
  const expected = { username: 'alice', password: 'pa:ss wörd' };
  test('parses user and password; the password may hold colons', () => {
    assert.deepEqual(parseBasicAuth(header('alice:pa:ss wörd')), expected);
    assert.deepEqual(parseBasicAuth(`basic   ${Buffer.from('a:').toString('base64')}`), { username: 'a', password: '' });
  });
  test('anything else is no credentials', () => {
    for (const value of [undefined, '', 'Bearer abc', 'Basic', 'Basic !!!', header('no-colon')]) {
      assert.equal(parseBasicAuth(value), null, String(value));
    }
  });
  test('only the configured pair passes, and anything passes when none is configured', () => {
    assert.equal(proxyAuthorized(header('alice:pa:ss wörd'), expected), true);
    assert.equal(proxyAuthorized(header('alice:wrong'), expected), false);
    assert.equal(proxyAuthorized(header('bob:pa:ss wörd'), expected), false);
    assert.equal(proxyAuthorized(undefined, expected), false);
    assert.equal(proxyAuthorized(undefined, null), true);
  });
});

describe('reply codes as HTTP statuses', () => {
  const table: Array<[ReplyCode, HttpStatus]> = [
    [ReplyCode.GeneralFailure, HttpStatus.BadGateway],
    [ReplyCode.NotAllowed, HttpStatus.Forbidden],
    [ReplyCode.NetworkUnreachable, HttpStatus.BadGateway],
    [ReplyCode.HostUnreachable, HttpStatus.BadGateway],
    [ReplyCode.ConnectionRefused, HttpStatus.BadGateway],
    [ReplyCode.TtlExpired, HttpStatus.GatewayTimeout],
    [ReplyCode.CommandNotSupported, HttpStatus.BadGateway],
    [ReplyCode.AddressTypeNotSupported, HttpStatus.BadGateway],
  ];
  for (const [reply, status] of table) {
    test(`0x${reply.toString(16).padStart(2, '0')} → ${status}`, () => {
      const { status: got, text } = answerForReply(reply, 'why');
      assert.equal(got, status);
      assert.match(text, /^[a-z].*: why$/);
    });
  }
});
