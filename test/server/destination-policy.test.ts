/**
 * DestinationPolicy as pure decisions, no network: the safe default (every internal range
 * refused and named, the rest public), IPv6 forms carrying an IPv4 address (mapped, NAT64,
 * IPv4-translated, 6to4) judged as that IPv4 address, and the operator's rules ahead of it,
 * first match wins, by address, by name and by port.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DestinationPolicy } from '../../server/policy/destination-policy.js';
import { parseTargetRule } from '../../server/policy/target-rule.js';

const PUBLIC = 'default: public';
/** A public address a name may resolve to, so only name rules can match. */
const PUBLIC_IP = '93.184.215.14';

const byIp = (ip: string, port = 443) => ({ name: null, ip, port });

function policy(...rules: Array<[action: 'allow' | 'deny', text: string]>): DestinationPolicy {
  return new DestinationPolicy(rules.map(([action, text]) => parseTargetRule(action, text)));
}

/** [range, rule-name pattern, addresses in it]. Loopback and private have their names fixed by the spec. */
const DENIED_BY_DEFAULT: Array<[string, RegExp, string[]]> = [
  ['loopback', /^default: loopback$/, ['127.0.0.1', '127.255.255.254', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1']],
  ['private', /^default: private$/, ['10.0.0.1', '10.255.255.255', '172.16.0.1', '172.31.255.255', '192.168.0.1', '192.168.255.255']],
  ['unique-local', /^default: unique.?local$/i, ['fc00::1', 'fd12:3456::1', 'fdff:ffff:ffff::1']],
  ['link-local', /^default: link.?local$/i, ['169.254.0.1', '169.254.169.254', '169.254.255.255', 'fe80::1', 'febf:ffff::1']],
  ['unspecified', /^default: unspecified$/i, ['0.0.0.0', '::']],
  ['multicast', /^default: multicast$/i, ['224.0.0.1', '239.255.255.250', 'ff02::1', 'ff0e::1']],
  ['broadcast', /^default: broadcast$/i, ['255.255.255.255']],
  ['carrier-grade NAT', /^default: carrier.?grade.?nat$/i, ['100.64.0.1', '100.127.255.254']],
  ['Teredo (its IPv4 addresses obfuscated)', /^default: teredo$/, ['2001:0::1', '2001:0:4136:e378:8000:63bf:3fff:fdd2', '2001:0:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['NAT64 local-use (IPv4 at no fixed place)', /^default: rfc6052$/, ['64:ff9b:1::a00:1', '64:ff9b:1:ffff:ffff:ffff:ffff:ffff']],
  ['deprecated site-local', /^default: deprecatedSiteLocal$/, ['fec0::1', 'feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']],
  ['discard-only', /^default: discard$/, ['100::1', '100::ffff:ffff:ffff:ffff']],
];

/** Public addresses, some right next to a denied range. */
const PUBLIC_ADDRESSES = [
  '8.8.8.8',
  '1.1.1.1',
  '2606:4700::1',
  '2001:4860:4860::8888',
  '9.255.255.255',
  '11.0.0.1',
  '126.255.255.255',
  '128.0.0.1',
  '169.253.255.255',
  '169.255.0.1',
  '172.15.255.255',
  '172.32.0.1',
  '192.167.255.255',
  '192.169.0.1',
  '100.63.255.255',
  '100.128.0.1',
  '223.255.255.255',
  '64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff',
  '64:ff9b::1:0:a00:1',
  '2003::1',
];

describe('DestinationPolicy: the safe default', () => {
  const empty = new DestinationPolicy([]);

  for (const [range, pattern, addresses] of DENIED_BY_DEFAULT) {
    test(`${range} is refused and named: ${addresses.join(', ')}`, () => {
      for (const address of addresses) {
        const decision = empty.decide(byIp(address));
        assert.equal(decision.allowed, false, `${address} allowed (${decision.rule})`);
        assert.match(decision.rule, pattern, `rule for ${address}`);
      }
    });
  }

  test(`everything else is allowed as '${PUBLIC}'`, () => {
    for (const address of PUBLIC_ADDRESSES) {
      assert.deepEqual(empty.decide(byIp(address)), { allowed: true, rule: PUBLIC }, address);
    }
  });

  test('the port and the name asked for do not change the default', () => {
    for (const port of [1, 53, 80, 65535]) {
      assert.equal(empty.decide(byIp('8.8.8.8', port)).allowed, true, `8.8.8.8:${port}`);
      assert.equal(empty.decide(byIp('10.0.0.1', port)).allowed, false, `10.0.0.1:${port}`);
    }
    assert.deepEqual(empty.decide({ name: 'localhost', ip: '127.0.0.1', port: 80 }), { allowed: false, rule: 'default: loopback' });
    assert.deepEqual(empty.decide({ name: 'dns.google', ip: '8.8.8.8', port: 53 }), { allowed: true, rule: PUBLIC });
  });

  test('IPv4-mapped IPv6 is judged as its IPv4 address', () => {
    assert.deepEqual(empty.decide(byIp('::ffff:10.0.0.1')), { allowed: false, rule: 'default: private' });
    assert.deepEqual(empty.decide(byIp('::ffff:127.0.0.1')), { allowed: false, rule: 'default: loopback' });
    assert.match(empty.decide(byIp('::ffff:169.254.169.254')).rule, /^default: link.?local$/i);
    assert.equal(empty.decide(byIp('::ffff:169.254.169.254')).allowed, false);
    assert.deepEqual(empty.decide(byIp('::ffff:8.8.8.8')), { allowed: true, rule: PUBLIC });
  });

  /** [address, the reason it is refused for, or null when public]. */
  const EMBEDDED: Array<[string, string | null]> = [
    ['64:ff9b::a00:1', 'default: private (via NAT64 64:ff9b::/96)'],
    ['64:ff9b::10.0.0.1', 'default: private (via NAT64 64:ff9b::/96)'],
    ['64:ff9b::c0a8:101', 'default: private (via NAT64 64:ff9b::/96)'],
    ['64:ff9b::7f00:1', 'default: loopback (via NAT64 64:ff9b::/96)'],
    ['64:ff9b::a9fe:a9fe', 'default: linkLocal (via NAT64 64:ff9b::/96)'],
    ['64:ff9b::6440:1', 'default: carrierGradeNat (via NAT64 64:ff9b::/96)'],
    ['64:ff9b::', 'default: unspecified (via NAT64 64:ff9b::/96)'],
    ['64:ff9b::8.8.8.8', null],
    ['64:ff9b::808:808', null],
    ['::ffff:0:a00:1', 'default: private (via IPv4-translated ::ffff:0:0:0/96)'],
    ['::ffff:0:127.0.0.1', 'default: loopback (via IPv4-translated ::ffff:0:0:0/96)'],
    ['::ffff:0:808:808', null],
    ['2002:0a00:0001::', 'default: private (via 6to4 2002::/16)'],
    ['2002:a00:1:1::1', 'default: private (via 6to4 2002::/16)'],
    ['2002:7f00:1::1', 'default: loopback (via 6to4 2002::/16)'],
    ['2002:a9fe:a9fe::', 'default: linkLocal (via 6to4 2002::/16)'],
    ['2002:0808:0808::', null],
    ['2002:0808:0808:1:2:3:4:5', null],
  ];

  test('IPv6 that carries an IPv4 address (NAT64 /96, IPv4-translated, 6to4) is judged as that address and the refusal names the form', () => {
    for (const [address, refusedAs] of EMBEDDED) {
      const expected = refusedAs === null ? { allowed: true, rule: PUBLIC } : { allowed: false, rule: refusedAs };
      assert.deepEqual(empty.decide(byIp(address)), expected, address);
    }
  });

  test('decisions are stable: the same question, the same answer', () => {
    for (let i = 0; i < 3; i++) assert.deepEqual(empty.decide(byIp('10.0.0.1')), { allowed: false, rule: 'default: private' });
  });
});

describe('DestinationPolicy: the operator rules ahead of the default', () => {
  test('allow 127.0.0.0/8: loopback IPv4 allowed and named by the rule; the rest of the default stands', () => {
    const p = policy(['allow', '127.0.0.0/8']);
    assert.deepEqual(p.decide(byIp('127.0.0.1')), { allowed: true, rule: '--allow 127.0.0.0/8' });
    assert.deepEqual(p.decide(byIp('127.200.0.1')), { allowed: true, rule: '--allow 127.0.0.0/8' });
    assert.deepEqual(p.decide(byIp('10.0.0.1')), { allowed: false, rule: 'default: private' });
    assert.deepEqual(p.decide(byIp('::1')), { allowed: false, rule: 'default: loopback' }, 'an IPv4 rule does not cover ::1');
  });

  test('deny 8.8.8.8: that address refused (also IPv4-mapped, also under a name), its neighbour public', () => {
    const p = policy(['deny', '8.8.8.8']);
    assert.deepEqual(p.decide(byIp('8.8.8.8')), { allowed: false, rule: '--deny 8.8.8.8' });
    assert.deepEqual(p.decide(byIp('::ffff:8.8.8.8')), { allowed: false, rule: '--deny 8.8.8.8' }, 'the mapped form cannot slip past');
    assert.deepEqual(p.decide({ name: 'dns.google', ip: '8.8.8.8', port: 53 }), { allowed: false, rule: '--deny 8.8.8.8' });
    assert.deepEqual(p.decide(byIp('8.8.4.4')), { allowed: true, rule: PUBLIC });
  });

  test('allow 10.0.0.0/8 also allows ::ffff:10.0.0.1', () => {
    assert.deepEqual(policy(['allow', '10.0.0.0/8']).decide(byIp('::ffff:10.0.0.1')), { allowed: true, rule: '--allow 10.0.0.0/8' });
  });

  test('an IPv6 rule still opens what the default refuses: Teredo, site-local, discard, NAT64, 6to4', () => {
    const p = policy(['allow', '2001::/32'], ['allow', 'fec0::/10'], ['allow', '[100::/64]:80'], ['allow', '64:ff9b::/96'], ['allow', '2002:a00:1::/48']);
    assert.deepEqual(p.decide(byIp('2001:0::1')), { allowed: true, rule: '--allow 2001::/32' });
    assert.deepEqual(p.decide(byIp('fec0::1')), { allowed: true, rule: '--allow fec0::/10' });
    assert.deepEqual(p.decide(byIp('100::1', 80)), { allowed: true, rule: '--allow [100::/64]:80' });
    assert.deepEqual(p.decide(byIp('100::1', 81)), { allowed: false, rule: 'default: discard' });
    assert.deepEqual(p.decide(byIp('64:ff9b::a00:1')), { allowed: true, rule: '--allow 64:ff9b::/96' });
    assert.deepEqual(p.decide(byIp('2002:a00:1::1')), { allowed: true, rule: '--allow 2002:a00:1::/48' });
    assert.deepEqual(p.decide(byIp('2002:a00:2::1')), { allowed: false, rule: 'default: private (via 6to4 2002::/16)' });
  });

  test('an IPv4 rule covers the IPv6 forms that reach that address, as it covers IPv4-mapped', () => {
    const allow = policy(['allow', '10.0.0.0/8']);
    for (const address of ['64:ff9b::a00:1', '::ffff:0:a00:1', '2002:a00:1::1']) {
      assert.deepEqual(allow.decide(byIp(address)), { allowed: true, rule: '--allow 10.0.0.0/8' }, address);
    }
    assert.deepEqual(allow.decide(byIp('64:ff9b::c0a8:101')), { allowed: false, rule: 'default: private (via NAT64 64:ff9b::/96)' });
    const deny = policy(['deny', '8.8.8.8:53']);
    for (const address of ['64:ff9b::808:808', '::ffff:0:808:808', '2002:808:808::1']) {
      assert.deepEqual(deny.decide(byIp(address, 53)), { allowed: false, rule: '--deny 8.8.8.8:53' }, `${address} cannot slip past`);
      assert.deepEqual(deny.decide(byIp(address, 443)), { allowed: true, rule: PUBLIC }, `${address} port 443`);
    }
    assert.deepEqual(allow.decide(byIp('64:ff9b:1::a00:1')), { allowed: false, rule: 'default: rfc6052' }, 'no fixed place, no IPv4 to match');
  });

  test('first match wins between an allow and a later deny, and the other way round', () => {
    const allowFirst = policy(['allow', '127.0.0.0/8'], ['deny', '127.0.0.1']);
    assert.deepEqual(allowFirst.decide(byIp('127.0.0.1')), { allowed: true, rule: '--allow 127.0.0.0/8' });
    const denyFirst = policy(['deny', '127.0.0.1'], ['allow', '127.0.0.0/8']);
    assert.deepEqual(denyFirst.decide(byIp('127.0.0.1')), { allowed: false, rule: '--deny 127.0.0.1' });
    assert.deepEqual(denyFirst.decide(byIp('127.0.0.2')), { allowed: true, rule: '--allow 127.0.0.0/8' });
  });

  test('a user deny covers public addresses: deny 0.0.0.0/0 refuses all IPv4, not IPv6', () => {
    const p = policy(['deny', '0.0.0.0/0']);
    assert.deepEqual(p.decide(byIp('1.1.1.1')), { allowed: false, rule: '--deny 0.0.0.0/0' });
    assert.deepEqual(p.decide(byIp('2606:4700::1')), { allowed: true, rule: PUBLIC });
  });

  test('*.example.com matches a.example.com and b.a.example.com, not example.com nor look-alikes', () => {
    const p = policy(['deny', '*.example.com']);
    for (const name of ['a.example.com', 'b.a.example.com', 'A.Example.COM']) {
      assert.deepEqual(p.decide({ name, ip: PUBLIC_IP, port: 443 }), { allowed: false, rule: '--deny *.example.com' }, name);
    }
    for (const name of ['example.com', 'badexample.com', 'example.com.evil.net', 'example.org']) {
      assert.deepEqual(p.decide({ name, ip: PUBLIC_IP, port: 443 }), { allowed: true, rule: PUBLIC }, name);
    }
    assert.deepEqual(p.decide(byIp(PUBLIC_IP)), { allowed: true, rule: PUBLIC }, 'a name rule never matches a request by IP');
  });

  test('an exact name matches only that name, in any case', () => {
    const p = policy(['deny', 'example.com']);
    for (const name of ['example.com', 'EXAMPLE.com']) {
      assert.deepEqual(p.decide({ name, ip: PUBLIC_IP, port: 80 }), { allowed: false, rule: '--deny example.com' }, name);
    }
    for (const name of ['www.example.com', 'example.co']) {
      assert.deepEqual(p.decide({ name, ip: PUBLIC_IP, port: 80 }), { allowed: true, rule: PUBLIC }, name);
    }
  });

  test(
    'a trailing dot (the same host, fully qualified) does not slip past a name rule, on either side',
    () => {
      const exact = policy(['deny', 'example.com']);
      assert.equal(exact.decide({ name: 'example.com.', ip: PUBLIC_IP, port: 80 }).allowed, false, 'example.com. under --deny example.com');
      const wildcard = policy(['deny', '*.example.com']);
      assert.equal(wildcard.decide({ name: 'a.example.com.', ip: PUBLIC_IP, port: 80 }).allowed, false, 'a.example.com. under --deny *.example.com');
      const written = policy(['deny', 'example.com.']);
      assert.equal(written.decide({ name: 'example.com', ip: PUBLIC_IP, port: 80 }).allowed, false, 'example.com under --deny example.com.');
    },
  );

  test('an allowed name opens its private address to that name only', () => {
    const p = policy(['allow', 'intranet.corp']);
    assert.deepEqual(p.decide({ name: 'intranet.corp', ip: '10.1.1.1', port: 443 }), { allowed: true, rule: '--allow intranet.corp' });
    assert.deepEqual(p.decide({ name: 'other.corp', ip: '10.1.1.1', port: 443 }), { allowed: false, rule: 'default: private' });
    assert.deepEqual(p.decide(byIp('10.1.1.1')), { allowed: false, rule: 'default: private' });
  });

  test('a rule with :443 does not match port 80', () => {
    const byName = policy(['deny', 'example.com:443']);
    assert.equal(byName.decide({ name: 'example.com', ip: PUBLIC_IP, port: 443 }).allowed, false);
    assert.deepEqual(byName.decide({ name: 'example.com', ip: PUBLIC_IP, port: 80 }), { allowed: true, rule: PUBLIC });
    const byAddress = policy(['deny', '8.8.8.8:443']);
    assert.deepEqual(byAddress.decide(byIp('8.8.8.8', 443)), { allowed: false, rule: '--deny 8.8.8.8:443' });
    assert.deepEqual(byAddress.decide(byIp('8.8.8.8', 80)), { allowed: true, rule: PUBLIC });
  });

  test('a range :1000-2000 includes both ends and nothing beyond', () => {
    const deny = policy(['deny', '8.8.8.8:1000-2000']);
    const expected: Array<[number, boolean]> = [
      [999, true],
      [1000, false],
      [1500, false],
      [2000, false],
      [2001, true],
    ];
    for (const [port, allowed] of expected) assert.equal(deny.decide(byIp('8.8.8.8', port)).allowed, allowed, `deny, port ${port}`);
    const allow = policy(['allow', '127.0.0.1:1000-2000']);
    for (const [port, denied] of expected) {
      assert.deepEqual(allow.decide(byIp('127.0.0.1', port)), denied ? { allowed: false, rule: 'default: loopback' } : { allowed: true, rule: '--allow 127.0.0.1:1000-2000' }, `allow, port ${port}`);
    }
  });

  test('an IPv6 rule with a port in brackets: [::1]:8080', () => {
    const p = policy(['allow', '[::1]:8080']);
    assert.deepEqual(p.decide(byIp('::1', 8080)), { allowed: true, rule: '--allow [::1]:8080' });
    assert.deepEqual(p.decide(byIp('::1', 8081)), { allowed: false, rule: 'default: loopback' });
  });

  test('rules that do not match fall through in order to the default', () => {
    const p = policy(['deny', '8.8.8.8'], ['allow', '*.example.com'], ['deny', '[2001:db8::/32]:1-1024']);
    assert.deepEqual(p.decide({ name: 'x.org', ip: '10.0.0.1', port: 80 }), { allowed: false, rule: 'default: private' });
    assert.deepEqual(p.decide({ name: 'x.org', ip: '1.1.1.1', port: 80 }), { allowed: true, rule: PUBLIC });
  });
});
