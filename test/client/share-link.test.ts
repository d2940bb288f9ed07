/** The sockbridge:// share link: fixed encodings, round trips, escaping, and every refusal naming --link. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { assertRefused as assertConfigRefused } from '../helpers/fixtures/config-errors.js';
import { decodeShareLink, encodeShareLink, type ShareLink } from '../../common/share-link.js';

const FP = 'ab'.repeat(32);
const FP_COLONS = Array.from({ length: 32 }, () => 'AB').join(':');
const SECRET = 'very-secret-token';

function link(partial: Partial<ShareLink>): ShareLink {
  return { relayUrl: 'wss://relay.example/tunnel', token: 'tok', fingerprint: null, host: null, sni: null, label: null, ...partial };
}

function assertRefused(run: () => unknown, flag: string, pattern: RegExp): void {
  assertConfigRefused(run, flag, pattern, SECRET);
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
    // One relay: no also=, exactly as before several relays existed.
    [{ alsoRelayUrls: [] }, 'sockbridge://tok@relay.example/tunnel?tls=1'],
    // Further relays, in order, each a whole URL escaped as one value; fp= and sni= apply to all.
    [
      { alsoRelayUrls: ['wss://b.example:8443/tunnel', 'wss://[2001:db8::2]/a%20b&c'], fingerprint: FP, sni: 'cdn.example' },
      `sockbridge://tok@relay.example/tunnel?tls=1&fp=${FP}&sni=cdn.example&also=wss://b.example:8443/tunnel&also=wss://%5B2001:db8::2%5D/a%2520b%26c`,
    ],
    [{ relayUrl: 'ws://127.0.0.1:1/t', alsoRelayUrls: ['wss://b.example:443/t', 'ws://127.0.0.1:2'] }, 'sockbridge://tok@127.0.0.1:1/t?tls=0&also=wss://b.example/t&also=ws://127.0.0.1:2/'],
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
    [{ alsoRelayUrls: ['https://b.example/t'] }, '--relay', /ws:\/\/ or wss:\/\//],
    [{ alsoRelayUrls: [`wss://${SECRET}@b.example/t`] }, '--relay', /user name or password/],
    [{ alsoRelayUrls: ['wss://b.example/t?x=1'] }, '--relay', /query or a fragment/],
    [{ alsoRelayUrls: ['wss://relay.example:443/tunnel'] }, '--relay', /same relay URL is given twice/],
    [{ alsoRelayUrls: Array.from({ length: 16 }, (_, i) => `wss://r${i}.example/t`) }, '--relay', /at most 16 relays/],
    [{ alsoRelayUrls: ['ws://b.example/t'], fingerprint: FP }, '--fingerprint', /only applies to wss:\/\/ relays.*every --relay/],
    [{ alsoRelayUrls: ['ws://b.example/t'], sni: 'cdn.example' }, '--sni', /only applies to wss:\/\/ relays/],
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
      fc.property(relayUrl, text, fc.option(label), fc.option(fc.constant(FP)), fc.option(fc.constantFrom('h.example', 'h.example:8443', '[::1]:1', "front!$'x.example")), (url, token, name, fp, host) => {
        const tls = url.startsWith('wss:');
        const original = link({ relayUrl: url, token, label: name, fingerprint: tls ? fp : null, host, sni: tls ? 'sni.example' : null });
        assert.deepEqual(decodeShareLink(encodeShareLink(original)), original);
      }),
      { numRuns: 300 },
    );
  });

  test('round trip with several relays: all of them, in order, whatever their paths hold', () => {
    const segment = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).filter((s) => s !== '.' && s !== '..' && !s.includes('/'));
    const relay = fc.tuple(fc.constantFrom('wss://b.example', 'wss://[::1]:8443', 'wss://10.0.0.2:444', 'ws://127.0.0.1:9'), segment);
    fc.assert(
      fc.property(fc.uniqueArray(relay, { minLength: 1, maxLength: 4, selector: ([host, path]) => `${host}/${path}` }), (relays) => {
        // The URLs as the WHATWG parser writes them, which is what a --relay flag turns into.
        const also = relays.map(([host, path]) => new URL(`${host}/${encodeURIComponent(path)}`).href);
        const tls = also.every((url) => url.startsWith('wss:'));
        const original = link({ alsoRelayUrls: also, token: SECRET, fingerprint: tls ? FP : null });
        const text = encodeShareLink(original);
        assert.deepEqual(decodeShareLink(text), original);
        assert.equal(text.split('also=').length, also.length + 1);
      }),
      { numRuns: 200 },
    );
  });

  test('several relays: also= values decode in order; the scheme ignores case; no path is /tunnel; tls= is the first relay\'s only', () => {
    const decoded = decodeShareLink('sockbridge://t@a.example/p?tls=0&also=WSS%3A%2F%2Fb.example%3A8443&also=ws://c.example/q%2520r');
    assert.deepEqual(decoded, { ...link({ relayUrl: 'ws://a.example/p', token: 't' }), alsoRelayUrls: ['wss://b.example:8443/tunnel', 'ws://c.example/q%20r'] });
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
    [`sockbridge://${SECRET}@relay.example/t?fingerprint=${FP}`, /unknown parameter "fingerprint" \(known: tls, fp, host, sni, also\)/],
    [`sockbridge://${SECRET}@relay.example/t?also=`, /also= has no value/],
    [`sockbridge://${SECRET}@relay.example/t?also=b.example/t`, /also= #1 must be a ws:\/\/ or wss:\/\/ URL with nothing after its path/],
    [`sockbridge://${SECRET}@relay.example/t?also=https://b.example/t`, /also= #1 must be a ws:\/\/ or wss:\/\/ URL, got https:/],
    [`sockbridge://${SECRET}@relay.example/t?also=wss://b.example/t%3Fx%3D1`, /also= #1 must be a ws:\/\/ or wss:\/\/ URL with nothing after its path/],
    [`sockbridge://${SECRET}@relay.example/t?also=wss://b.example/t%23x`, /also= #1 must be a ws:\/\/ or wss:\/\/ URL with nothing after its path/],
    [`sockbridge://t@relay.example/t?also=wss://${SECRET}@b.example/t`, /also= #1 must not carry a user name or token/],
    [`sockbridge://t@relay.example/t?also=wss://${SECRET}%40b.example/t`, /also= #1 must not carry a user name or token/],
    [`sockbridge://${SECRET}@relay.example/t?also=wss://b.example/u&also=wss://bad_host!/t`, /also= #2: the host "bad_host!" is not a DNS name/],
    [`sockbridge://${SECRET}@relay.example/t?also=wss://b.example:0/t`, /also= #1: the port "0"/],
    [`sockbridge://${SECRET}@relay.example/t?also=wss:///t`, /also= #1: the host is empty/],
    [`sockbridge://${SECRET}@relay.example/t?also=wss://b.example/a%20b`, /also= #1: the path "\/a b" holds a character/],
    [`sockbridge://${SECRET}@relay.example/t?also=wss://b.example/a/../b`, /also= #1: the path .*"\.\." segment/],
    [`sockbridge://${SECRET}@relay.example/t?also=wss://relay.example:443/t`, /also= #1 names a relay the link already holds/],
    [`sockbridge://${SECRET}@relay.example/t?also=wss://b.example/t&also=WSS://b.example/t`, /also= #2 names a relay the link already holds/],
    [`sockbridge://${SECRET}@relay.example/t?${Array.from({ length: 16 }, (_, i) => `also=wss://r${i}.example/t`).join('&')}`, /at most 16 relays, this one 17/],
    [`sockbridge://${SECRET}@relay.example/t?fp=${FP}&also=ws://b.example/t`, /fp= pins every relay's certificate, so also= #1 must be a wss:\/\/ URL/],
    [`sockbridge://${SECRET}@relay.example/t?also=wss://b.example/t&also=ws://c.example/t&sni=a.example`, /sni= .*also= #2 must be a wss:\/\/ URL/],
    [`sockbridge://${SECRET}@relay.example/t?also=wss://b.example/t"`, /value of also= holds a character/],
    [`sockbridge://${SECRET}@relay.example/t#a%0Ab`, /label after "#" holds a control character/],
    [`sockbridge://${SECRET}@relay.example/t#a b`, /label after "#" holds a character that must be percent-encoded/],
    [`sockbridge://${SECRET}@relay.example/t#%FF`, /label after "#" is not UTF-8/],
  ];
  for (const [text, pattern] of refused) {
    test(`refuses ${JSON.stringify(text)}`, () => assertRefused(() => decodeShareLink(text), '--link', pattern));
  }
});
