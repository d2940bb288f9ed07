/** --header, --host and --sni: what is accepted, and what is refused with a message naming the flag and the header. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertRefused } from '../helpers/fixtures/config-errors.js';
import { resolveClientConfig } from '../../client/config.js';
import { checkHostFlag, checkSniFlag, parseHeaderFlag, parseHeaderFlags } from '../../client/upgrade-headers.js';


describe('--header NAME: VALUE', () => {
  const accepted: Array<[string, { name: string; value: string }]> = [
    ['X-Cdn-Key: abc123', { name: 'X-Cdn-Key', value: 'abc123' }],
    ['cf-access-client-id:id.access', { name: 'cf-access-client-id', value: 'id.access' }],
    ['X-Spaced: \t a value with spaces \t', { name: 'X-Spaced', value: 'a value with spaces' }],
    ['X-Colons: a:b:c', { name: 'X-Colons', value: 'a:b:c' }],
    ['X-Empty:', { name: 'X-Empty', value: '' }],
    ["X-Token!#$%&'*+-.^_`|~9: v", { name: "X-Token!#$%&'*+-.^_`|~9", value: 'v' }],
    ['Cookie: session=1; theme=dark', { name: 'Cookie', value: 'session=1; theme=dark' }],
  ];
  for (const [flagValue, expected] of accepted) {
    test(`accepts ${JSON.stringify(flagValue)}`, () => {
      assert.deepEqual(parseHeaderFlag(flagValue), expected);
    });
  }

  const badSyntax: Array<[string, RegExp]> = [
    ['no colon at all', /expected 'Name: value'/],
    [': value without a name', /"" is not a valid header name/],
    ['X Space: v', /"X Space" is not a valid header name/],
    ['X-Bad(): v', /"X-Bad\(\)" is not a valid header name/],
    ['Näme: v', /"Näme" is not a valid header name/],
    ['X-Split: a\r\nInjected: b', /the value of "X-Split" holds a control character/],
    ['X-Nul: a\0b', /the value of "X-Nul" holds a control character/],
  ];
  for (const [flagValue, pattern] of badSyntax) {
    test(`refuses ${JSON.stringify(flagValue)}`, () => assertRefused(() => parseHeaderFlag(flagValue), '--header', pattern));
  }

  const reserved: Array<[string, RegExp]> = [
    ['Host: cdn.example', /"Host" cannot be set with --header: set it with --host/],
    ['host: cdn.example', /"host" cannot be set with --header: set it with --host/],
    ['Authorization: Bearer x', /"Authorization" cannot be set with --header: sockbridge sends the token in it/],
    ['Upgrade: h2c', /"Upgrade" cannot be set with --header: part of the WebSocket handshake/],
    ['CONNECTION: close', /"CONNECTION" cannot be set with --header/],
    ['Content-Length: 5', /"Content-Length" cannot be set with --header: an upgrade request has no body/],
    ['Transfer-Encoding: chunked', /"Transfer-Encoding" cannot be set with --header/],
    ['Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAAAA==', /"Sec-WebSocket-Key" cannot be set with --header: part of the WebSocket handshake/],
    ['sec-websocket-protocol: other', /"sec-websocket-protocol" cannot be set with --header/],
    ['Sec-WebSocket-Extensions: permessage-deflate', /"Sec-WebSocket-Extensions" cannot be set with --header/],
  ];
  for (const [flagValue, pattern] of reserved) {
    test(`refuses ${JSON.stringify(flagValue)}, naming the header`, () => assertRefused(() => parseHeaderFlag(flagValue), '--header', pattern));
  }

  test('several in order make one headers object', () => {
    assert.deepEqual(parseHeaderFlags(['X-One: 1', 'X-Two: 2']), { 'X-One': '1', 'X-Two': '2' });
    assert.deepEqual(parseHeaderFlags([]), {});
  });

  test('a name given twice, in any case, is refused', () => {
    assertRefused(() => parseHeaderFlags(['X-Key: 1', 'x-key: 2']), '--header', /"x-key" is given twice/);
  });

  test('startClient-style headers objects are checked as well', () => {
    const base = { relayUrl: 'ws://relay.example:8080/tunnel', token: 't' };
    assert.deepEqual(resolveClientConfig({ ...base, headers: { 'X-Ok': 'yes' } }).headers, { 'X-Ok': 'yes' });
    assertRefused(() => resolveClientConfig({ ...base, headers: { Authorization: 'Basic eA==' } }), '--header', /"Authorization"/);
  });
});

describe('--host NAME', () => {
  for (const host of ['relay.example', 'relay.example:8443', '203.0.113.7', '[2001:db8::1]:443', 'xn--bcher-kva.example']) {
    test(`accepts ${host}`, () => checkHostFlag(host));
  }
  for (const host of ['', 'two words', 'relay.example\r\nX-Injected: 1', 'relay.example:port', 'a/b', '[2001:db8::1']) {
    test(`refuses ${JSON.stringify(host)}`, () => assertRefused(() => checkHostFlag(host), '--host', /expected a host name with an optional :PORT/));
  }
});

describe('--sni NAME', () => {
  for (const sni of ['front.example', 'localhost', 'a-b.c_d.example', 'trailing.dot.example.']) {
    test(`accepts ${sni}`, () => checkSniFlag(sni));
  }
  for (const sni of ['127.0.0.1', '::1', '[2001:db8::1]']) {
    test(`refuses the IP address ${sni}`, () => assertRefused(() => checkSniFlag(sni), '--sni', /is an IP address, which SNI cannot carry/));
  }
  for (const sni of ['', 'front.example:443', 'two words', '-lead.example', 'a..b', `${'a'.repeat(64)}.example`]) {
    test(`refuses ${JSON.stringify(sni)}`, () => assertRefused(() => checkSniFlag(sni), '--sni', /is not a DNS host name/));
  }
  test('only applies to a wss:// relay', () => {
    assertRefused(() => resolveClientConfig({ relayUrl: 'ws://relay.example:8080/tunnel', token: 't', sni: 'front.example' }), '--sni', /only applies to a wss:\/\/ relay/);
    assert.equal(resolveClientConfig({ relayUrl: 'wss://relay.example/tunnel', token: 't', sni: 'front.example' }).sni, 'front.example');
  });
});
