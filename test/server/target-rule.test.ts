/**
 * --allow/--deny TARGET syntax: CIDR, IP, host name or *.domain, optionally :PORT or
 * :LOW-HIGH, IPv6 in brackets to carry a port. Each valid form is checked by what it
 * matches (through a one-rule DestinationPolicy, so no internal field is assumed), each
 * invalid form by the typed error and the offending text it carries.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DestinationPolicy } from '../../server/policy/destination-policy.js';
import { parseTargetRule, RuleSyntaxError, type TargetRule } from '../../server/policy/target-rule.js';

interface Query {
  name: string | null;
  ip: string;
  port: number;
}

/** True when `rule` (and not the safe default behind it) decided about `query`. */
function decidedByRule(rule: TargetRule, query: Query): boolean {
  const decision = new DestinationPolicy([rule]).decide(query);
  const byRule = !decision.rule.startsWith('default:');
  if (byRule) assert.equal(decision.allowed, rule.action === 'allow', `a matching ${rule.action} rule decides ${rule.action}`);
  return byRule;
}

const ip = (address: string, port = 80): Query => ({ name: null, ip: address, port });
/** A name the client asked for, resolved to a public address (so only the name can match). */
const named = (name: string, port = 80): Query => ({ name, ip: '93.184.215.14', port });

/** [text, queries the rule must match, queries it must not]. */
const VALID: Array<[string, Query[], Query[]]> = [
  ['10.0.0.0/8', [ip('10.0.0.0'), ip('10.1.2.3', 1), ip('10.255.255.255', 65535)], [ip('11.0.0.0'), ip('9.255.255.255'), named('10.0.0.1')]],
  ['172.16.0.0/12', [ip('172.16.0.1'), ip('172.31.255.255')], [ip('172.32.0.0'), ip('172.15.255.255')]],
  ['127.0.0.1', [ip('127.0.0.1', 1), ip('127.0.0.1', 65535)], [ip('127.0.0.2'), ip('::1')]],
  ['0.0.0.0/0', [ip('8.8.8.8'), ip('127.0.0.1')], [ip('2606:4700::1')]],
  ['::1', [ip('::1'), ip('0:0:0:0:0:0:0:1')], [ip('::2'), ip('127.0.0.1')]],
  ['::1/128', [ip('::1')], [ip('::2')]],
  ['2001:db8::/32', [ip('2001:db8::1'), ip('2001:db8:ffff::5')], [ip('2001:db9::1'), ip('2001:db7::1')]],
  ['[2001:db8::/32]', [ip('2001:db8::1'), ip('2001:db8:ffff::5', 443)], [ip('2001:db9::1')]],
  ['fd00::/8', [ip('fd00::1'), ip('fdff::1')], [ip('fc00::1')]],
  ['[::1]', [ip('::1', 22)], [ip('::2')]],
  ['[::1]:8080', [ip('::1', 8080)], [ip('::1', 8081), ip('::1', 80)]],
  ['[fd00::/8]:1-1024', [ip('fd00::1', 1), ip('fd12::1', 1024)], [ip('fd00::1', 1025), ip('fc00::1', 80)]],
  // An IPv6 address without brackets is all address: its last group is not a port.
  ['::1:80', [ip('::1:80', 443)], [ip('::1', 80)]],
  ['127.0.0.0/8:80', [ip('127.9.9.9', 80)], [ip('127.9.9.9', 81)]],
  ['127.0.0.1:1000-2000', [ip('127.0.0.1', 1000), ip('127.0.0.1', 2000)], [ip('127.0.0.1', 999), ip('127.0.0.1', 2001)]],
  ['10.0.0.0/8:1-65535', [ip('10.0.0.1', 1), ip('10.0.0.1', 65535)], [ip('11.0.0.1')]],
  ['example.com', [named('example.com'), named('EXAMPLE.com')], [named('www.example.com'), named('example.org'), named('badexample.com'), ip('93.184.215.14')]],
  ['Example.COM', [named('example.com')], [named('www.example.com')]],
  ['example.com:443', [named('example.com', 443)], [named('example.com', 80)]],
  ['localhost', [named('localhost')], [named('localhost.localdomain')]],
  ['my-host.internal', [named('my-host.internal')], [named('host.internal')]],
  ['*.example.com', [named('a.example.com'), named('b.a.example.com')], [named('example.com'), named('badexample.com'), named('example.com.evil.net'), ip('93.184.215.14')]],
  ['*.example.com:1-1024', [named('a.example.com', 1024)], [named('a.example.com', 1025), named('example.com', 80)]],
];

const INVALID: Array<[string, string]> = [
  ['10.0.0.0/33', 'IPv4 prefix longer than 32'],
  ['10.1', 'shorthand IPv4 (would silently mean 10.0.0.1)'],
  ['10.1/16', 'shorthand IPv4 in a CIDR'],
  ['[example.com]:80', 'a name in brackets'],
  ['fe80::/129', 'IPv6 prefix longer than 128'],
  ['10.0.0.0/abc', 'prefix not a number'],
  [':80', 'a port without a destination'],
  ['host:70000', 'port above 65535'],
  ['host:0', 'port 0'],
  ['host:5-1', 'a reversed range'],
  ['host:80-', 'a range without its high end'],
  ['host:http', 'a port that is not a number'],
  ['example.com:', 'a colon without a port'],
  ['*.', 'a wildcard without a domain'],
  ['*.exa mple.com', 'a wildcard over a domain that is not a host name'],
  ['*.*.example.com', 'a second wildcard label'],
  ['*..com', 'an empty label after the wildcard'],
  ['foo.*.example.com', 'a wildcard that is not the first label'],
  ['', 'empty text'],
  ['[::1', 'an unclosed bracket'],
  ['[::1]:', 'a bracket and colon without a port'],
  ['[::1]8080', 'a port after the bracket without a colon'],
  ['a b', 'a space in a host name'],
];

describe('parseTargetRule: valid forms', () => {
  for (const [text, hits, misses] of VALID) {
    test(`${JSON.stringify(text)}`, () => {
      for (const action of ['allow', 'deny'] as const) {
        const rule = parseTargetRule(action, text);
        assert.equal(rule.action, action);
        assert.equal(rule.text, text, 'the original text is kept');
        assert.equal(rule.describe(), `--${action} ${text}`, 'named as the operator wrote it');
        for (const query of hits) assert.ok(decidedByRule(rule, query), `${rule.describe()} matches ${JSON.stringify(query)}`);
        for (const query of misses) assert.ok(!decidedByRule(rule, query), `${rule.describe()} does not match ${JSON.stringify(query)}`);
      }
    });
  }
});

describe('parseTargetRule: invalid forms throw RuleSyntaxError carrying the text', () => {
  for (const [text, what] of INVALID) {
    test(`${JSON.stringify(text)}: ${what}`, () => {
      for (const action of ['allow', 'deny'] as const) {
        let caught: unknown = null;
        try {
          parseTargetRule(action, text);
        } catch (err) {
          caught = err;
        }
        assert.ok(caught !== null, `--${action} ${JSON.stringify(text)} was accepted`);
        assert.ok(caught instanceof RuleSyntaxError, `a RuleSyntaxError, got ${String(caught)}`);
        assert.ok(caught instanceof Error);
        assert.equal(caught.text, text, '.text is the offending rule text');
        assert.ok(caught.message.length > 0, 'the message says what is wrong');
      }
    });
  }
});
