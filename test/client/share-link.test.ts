/** The sockbridge:// share link: fixed encodings, round trips, escaping, and every refusal naming --link. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ConfigError } from '../../common/config-error.js';
import { decodeShareLink, encodeShareLink, type ShareLink } from '../../common/share-link.js';

const FP = 'ab'.repeat(32);
const FP_COLONS = Array.from({ length: 32 }, () => 'AB').join(':');
const SECRET = 'very-secret-token';

function link(partial: Partial<ShareLink>): ShareLink {
  return { relayUrl: 'wss://relay.example/tunnel', token: 'tok', fingerprint: null, host: null, sni: null, label: null, ...partial };
}

function assertRefused(run: () => unknown, flag: string, pattern: RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    assert.equal(err.setting, flag);
    assert.match(err.message, new RegExp(`^${flag}: `));
    assert.match(err.message, pattern);
    assert.ok(!err.message.includes(SECRET), `the message never quotes the token: ${err.message}`);
    return true;
  });
}

describe('encodeShareLink', () => {
  const fixtures: Array<[Partial<ShareLink>, string]> = [
    [{}, 'sockbridge://tok@relay.example/tunnel?tls=1'],
    [{ relayUrl: 'ws://127.0.0.1:8080/p' }, 'sockbridge://tok@127.0.0.1:8080/p?tls=0'],
    [{ relayUrl: 'wss://relay.example:443/tunnel' }, 'sockbridge://tok@relay.example/tunnel?tls=1'],
    [{ relayUrl: 'wss://[2001:db8::1]:8443/t' }, 'sockbridge://tok@[2001:db8::1]:8443/t?tls=1'],
    [{ fingerprint: FP_COLONS }, `sockbridge://tok@relay.example/tunnel?tls=1&fp=${FP}`],
    [{ host: 'front.example:8443', sni: 'cdn.example' }, 'sockbridge://tok@relay.example/tunnel?tls=1&host=front.example:8443&sni=cdn.example'],
    [{ label: "Alice's laptop #2" }, 'sockbridge://tok@relay.example/tunnel?tls=1#Alice%27s%20laptop%20%232'],
    [{ label: 'Zürich' }, 'sockbridge://tok@relay.example/tunnel?tls=1#Z%C3%BCrich'],
    // Every reserved character of the token is escaped: @ : / ? # [ ] % + = & and space.
    [{ token: 'a@b:c/d?e#f[g]h%i+j=k&l m' }, 'sockbridge://a%40b%3Ac%2Fd%3Fe%23f%5Bg%5Dh%25i%2Bj%3Dk%26l%20m@relay.example/tunnel?tls=1'],
    [{ token: 'ключ' }, 'sockbridge://%D0%BA%D0%BB%D1%8E%D1%87@relay.example/tunnel?tls=1'],
    [{ relayUrl: 'wss://relay.example/a%20b/[c]' }, 'sockbridge://tok@relay.example/a%20b/%5Bc%5D?tls=1'],
  ];
  for (const [partial, expected] of fixtures) {
    test(`encodes ${JSON.stringify(partial)}`, () => assert.equal(encodeShareLink(link(partial)), expected));
  }

  const refused: Array<[Partial<ShareLink>, string, RegExp]> = [
    [{ relayUrl: 'not a url' }, '--relay', /not a URL/],
    [{ relayUrl: 'https://relay.example/tunnel' }, '--relay', /ws:\/\/ or wss:\/\//],
    [{ relayUrl: 'wss://user:pw@relay.example/tunnel' }, '--relay', /user name or password/],
    [{ relayUrl: 'wss://relay.example/tunnel?x=1' }, '--relay', /query or a fragment/],
    [{ relayUrl: 'wss://relay.example/tunnel#x' }, '--relay', /query or a fragment/],
    [{ token: '' }, '--token', /required/],
    [{ fingerprint: 'abc' }, '--fingerprint', /64 hex digits/],
    [{ relayUrl: 'ws://relay.example/tunnel', fingerprint: FP }, '--fingerprint', /wss:\/\//],
    [{ relayUrl: 'ws://relay.example/tunnel', sni: 'relay.example' }, '--sni', /wss:\/\//],
    [{ sni: '10.0.0.1' }, '--sni', /not a DNS host name/],
    [{ host: 'a b' }, '--host', /host name/],
    [{ label: '' }, '--name', /empty/],
    [{ label: 'a\nb' }, '--name', /control character/],
    [{ label: 'x'.repeat(201) }, '--name', /longer than 200/],
  ];
  for (const [partial, flag, pattern] of refused) {
    test(`refuses ${JSON.stringify(partial)} naming ${flag}`, () => assertRefused(() => encodeShareLink(link({ token: SECRET, ...partial })), flag, pattern));
  }
});

describe('decodeShareLink', () => {
  test('decodes every part', () => {
    const decoded = decodeShareLink(`sockbridge://a%40b%3Ac%2B@relay.example:8443/p%20q?tls=1&fp=${FP_COLONS}&host=front.example&sni=cdn.example#Bob%27s`);
    assert.deepEqual(decoded, { relayUrl: 'wss://relay.example:8443/p%20q', token: 'a@b:c+', fingerprint: FP, host: 'front.example', sni: 'cdn.example', label: "Bob's" });
  });

  test('defaults: no tls= is wss://, no path is /tunnel, no #label is none; the scheme ignores case; spaces around are trimmed', () => {
    assert.deepEqual(decodeShareLink('  SockBridge://t+~!$&\'()*,;=@relay.example\n'), link({ token: "t+~!$&'()*,;=" }));
    assert.equal(decodeShareLink('sockbridge://t@relay.example/?tls=0').relayUrl, 'ws://relay.example/');
    assert.equal(decodeShareLink('sockbridge://t@relay.example/x#').label, null);
    assert.equal(decodeShareLink('sockbridge://t@[::1]:9/x?').relayUrl, 'wss://[::1]:9/x');
  });

  test('round trip: decode(encode(x)) = x for any token, label and options', () => {
    const text = fc.string({ unit: 'binary', minLength: 1, maxLength: 40 });
    const label = text.filter((s) => !/[\x00-\x1f\x7f]/.test(s));
    const relayUrl = fc.constantFrom('wss://relay.example/tunnel', 'ws://127.0.0.1:8080/x', 'wss://[::1]:8443/a%20b', 'wss://r.example:444/');
    fc.assert(
      fc.property(relayUrl, text, fc.option(label), fc.option(fc.constant(FP)), fc.option(fc.constantFrom('h.example', 'h.example:8443', '[::1]:1')), (url, token, name, fp, host) => {
        const tls = url.startsWith('wss:');
        const original = link({ relayUrl: url, token, label: name, fingerprint: tls ? fp : null, host, sni: tls ? 'sni.example' : null });
        assert.deepEqual(decodeShareLink(encodeShareLink(original)), original);
      }),
      { numRuns: 300 },
    );
  });

  const refused: Array<[string, RegExp]> = [
    ['', /expected sockbridge:\/\/TOKEN@HOST/],
    [`sockbridge:${SECRET}@relay.example`, /expected sockbridge:\/\/TOKEN@HOST/],
    [`https://${SECRET}@relay.example/tunnel`, /expected a sockbridge:\/\/ link, got a https: URI/],
    ['sockbridge://relay.example/tunnel', /the token, then one "@"/],
    [`sockbridge://${SECRET}@x@relay.example/tunnel`, /one "@".*%40/],
    ['sockbridge://@relay.example/tunnel', /token before the "@" is empty/],
    [`sockbridge://user:${SECRET}@relay.example/tunnel`, /raw ":".*%3A/],
    [`sockbridge://${SECRET}%zz@relay.example/tunnel`, /token holds a character that must be percent-encoded/],
    [`sockbridge://${SECRET}"@relay.example/tunnel`, /token holds a character that must be percent-encoded/],
    [`sockbridge://${SECRET}%C3@relay.example/tunnel`, /token is not UTF-8/],
    [`sockbridge://${SECRET}@/tunnel`, /host after the "@" is empty/],
    [`sockbridge://${SECRET}@bad_host!/tunnel`, /not a DNS name/],
    [`sockbridge://${SECRET}@[10.0.0.1]/tunnel`, /IPv6/],
    [`sockbridge://${SECRET}@relay.example:0/tunnel`, /port "0"/],
    [`sockbridge://${SECRET}@relay.example:65536/tunnel`, /port "65536"/],
    [`sockbridge://${SECRET}@relay.example:/tunnel`, /port ""/],
    [`sockbridge://${SECRET}@relay.example:8x/tunnel`, /port "8x"/],
    [`sockbridge://${SECRET}@relay.example/a b`, /path "\/a b" holds a character/],
    [`sockbridge://${SECRET}@relay.example/a/../b`, /"\." or "\.\." segment/],
    [`sockbridge://${SECRET}@relay.example/t?tls=2`, /tls= must be 1 \(wss:\/\/\) or 0/],
    [`sockbridge://${SECRET}@relay.example/t?tls=1&tls=1`, /tls= is given twice/],
    [`sockbridge://${SECRET}@relay.example/t?fp=`, /fp= has no value/],
    [`sockbridge://${SECRET}@relay.example/t?fp`, /fp= has no value/],
    [`sockbridge://${SECRET}@relay.example/t?fp=12`, /fp= must be a SHA-256 fingerprint/],
    [`sockbridge://${SECRET}@relay.example/t?tls=0&fp=${FP}`, /fp= .*needs tls=1/],
    [`sockbridge://${SECRET}@relay.example/t?tls=0&sni=a.example`, /sni= .*needs tls=1/],
    [`sockbridge://${SECRET}@relay.example/t?sni=10.1.1.1`, /sni= must be a DNS host name/],
    [`sockbridge://${SECRET}@relay.example/t?host=a%20b`, /host= must be a host name/],
    [`sockbridge://${SECRET}@relay.example/t?host=a"b`, /value of host= holds a character/],
    [`sockbridge://${SECRET}@relay.example/t?sni=a.example&&tls=1`, /unknown parameter ""/],
    [`sockbridge://${SECRET}@relay.example/t?fingerprint=${FP}`, /unknown parameter "fingerprint" \(known: tls, fp, host, sni\)/],
    [`sockbridge://${SECRET}@relay.example/t#a%0Ab`, /label after "#" holds a control character/],
    [`sockbridge://${SECRET}@relay.example/t#a b`, /label after "#" holds a character that must be percent-encoded/],
    [`sockbridge://${SECRET}@relay.example/t#%FF`, /label after "#" is not UTF-8/],
  ];
  for (const [text, pattern] of refused) {
    test(`refuses ${JSON.stringify(text)}`, () => assertRefused(() => decodeShareLink(text), '--link', pattern));
  }
});
