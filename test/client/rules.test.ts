/**
 * The client's routing rules: the TARGET forms shared with the relay, first match wins
 * across flags and file lines, ports and ranges, IPv4/IPv6 CIDRs, `*.domain` against the
 * exact name, the rules file's comments and errors (naming file and line), and a
 * 50,000-line file whose lookups are checked name by name, and for costing a few probes each.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RuleSyntaxError } from '../../common/target-syntax.js';
import { loadRulesFile, parseRules, RulesFileError } from '../../client/outbound/rules-file.js';
import { ruleFromFlag, RoutingTable, type RouteDecision } from '../../client/outbound/rules.js';
import { Route } from '../../client/outbound/route.js';

const FILE = 'rules.txt';

function table(text: string): RoutingTable {
  return new RoutingTable(parseRules(text, FILE));
}

function routeOf(rules: RoutingTable, host: string, port = 443): Route {
  return rules.decide({ host, port }).route;
}

describe('routing rules: matching', () => {
  test('nothing matched goes through the relay, and says so', () => {
    const rules = table('direct example.cn\n');
    assert.deepEqual(rules.decide({ host: 'example.org', port: 80 }), { route: Route.Relay, rule: null } satisfies RouteDecision);
    assert.deepEqual(new RoutingTable([]).decide({ host: '10.0.0.1', port: 80 }).route, Route.Relay);
  });

  test('an exact name matches only itself, in any case and with a trailing dot', () => {
    const rules = table('direct example.cn');
    assert.equal(routeOf(rules, 'example.cn'), Route.Direct);
    assert.equal(routeOf(rules, 'EXAMPLE.Cn.'), Route.Direct);
    assert.equal(routeOf(rules, 'www.example.cn'), Route.Relay);
    assert.equal(routeOf(rules, 'badexample.cn'), Route.Relay);
  });

  test('*.domain matches every name below the domain, not the domain itself (as the relay\'s --allow)', () => {
    const rules = table('block *.example.cn');
    assert.equal(routeOf(rules, 'a.example.cn'), Route.Block);
    assert.equal(routeOf(rules, 'b.a.example.cn'), Route.Block);
    assert.equal(routeOf(rules, 'example.cn'), Route.Relay);
    assert.equal(routeOf(rules, 'badexample.cn'), Route.Relay);
    assert.equal(routeOf(rules, 'example.cn.evil.net'), Route.Relay);
  });

  test('first match wins, whichever index found it', () => {
    const rules = table(['block a.example.cn', 'direct *.example.cn', 'block *.cn', 'direct 10.0.0.0/8', 'block 10.1.0.0/16'].join('\n'));
    assert.equal(routeOf(rules, 'a.example.cn'), Route.Block);
    assert.equal(routeOf(rules, 'b.example.cn'), Route.Direct);
    assert.equal(routeOf(rules, 'x.b.example.cn'), Route.Direct);
    assert.equal(routeOf(rules, 'other.cn'), Route.Block);
    assert.equal(routeOf(rules, '10.1.2.3'), Route.Direct, 'the /8 comes first');
    const reversed = table(['block *.cn', 'direct *.example.cn', 'block 10.1.0.0/16', 'direct 10.0.0.0/8'].join('\n'));
    assert.equal(routeOf(reversed, 'b.example.cn'), Route.Block);
    assert.equal(routeOf(reversed, '10.1.2.3'), Route.Block);
    assert.equal(routeOf(reversed, '10.2.0.1'), Route.Direct);
  });

  test('`*` matches everything, in its place in the order', () => {
    const rules = table('direct *.example.cn\nblock *\ndirect other.org');
    assert.equal(routeOf(rules, 'a.example.cn'), Route.Direct);
    assert.equal(routeOf(rules, 'other.org'), Route.Block);
    assert.equal(routeOf(rules, '192.0.2.1'), Route.Block);
    assert.equal(routeOf(rules, '::1'), Route.Block);
  });

  test('ports and port ranges narrow a rule; a non-matching port falls through to later rules', () => {
    const rules = table(['direct example.cn:443', 'block example.cn:1-1024', 'direct *.example.cn:8000-8999', 'block [2001:db8::/32]:22', 'direct *:53'].join('\n'));
    assert.equal(routeOf(rules, 'example.cn', 443), Route.Direct);
    assert.equal(routeOf(rules, 'example.cn', 80), Route.Block);
    assert.equal(routeOf(rules, 'example.cn', 1025), Route.Relay);
    assert.equal(routeOf(rules, 'a.example.cn', 8000), Route.Direct);
    assert.equal(routeOf(rules, 'a.example.cn', 8999), Route.Direct);
    assert.equal(routeOf(rules, 'a.example.cn', 9000), Route.Relay);
    assert.equal(routeOf(rules, '2001:db8::5', 22), Route.Block);
    assert.equal(routeOf(rules, '2001:db8::5', 23), Route.Relay);
    assert.equal(routeOf(rules, 'anything.org', 53), Route.Direct);
  });

  test('IPv4 CIDRs and single addresses, IPv4-mapped IPv6 counted as IPv4', () => {
    const rules = table(['block 198.51.100.0/24', 'direct 127.0.0.1', 'direct 0.0.0.0/1', 'block 0.0.0.0/0'].join('\n'));
    assert.equal(routeOf(rules, '198.51.100.0'), Route.Block);
    assert.equal(routeOf(rules, '198.51.100.255'), Route.Block);
    assert.equal(routeOf(rules, '198.51.101.0'), Route.Block, 'falls to 0.0.0.0/0');
    assert.equal(routeOf(rules, '127.0.0.1'), Route.Direct);
    assert.equal(routeOf(rules, '::ffff:127.0.0.1'), Route.Direct);
    assert.equal(routeOf(rules, '127.255.0.1'), Route.Direct, '0.0.0.0/1');
    assert.equal(routeOf(rules, '128.0.0.1'), Route.Block, '0.0.0.0/0');
    assert.equal(routeOf(rules, '2001:db8::1'), Route.Relay, 'an IPv4 rule never matches IPv6');
  });

  test('IPv6 CIDRs at prefix lengths that split a byte', () => {
    const rules = table(['direct 2001:db8::/32', 'block fd00::/7', 'direct ::1', 'block 2001:db8:8000::/33'].join('\n'));
    assert.equal(routeOf(rules, '2001:db8::1'), Route.Direct);
    assert.equal(routeOf(rules, '2001:0db8:ffff::1'), Route.Direct);
    assert.equal(routeOf(rules, '2001:db9::1'), Route.Relay);
    assert.equal(routeOf(rules, 'fc00::1'), Route.Block);
    assert.equal(routeOf(rules, 'fdff::1'), Route.Block);
    assert.equal(routeOf(rules, 'fe00::1'), Route.Relay);
    assert.equal(routeOf(rules, '::1'), Route.Direct);
    assert.equal(routeOf(rules, '::2'), Route.Relay);
  });

  test('an IP rule never matches a name and a name rule never an IP: the client resolves nothing', () => {
    const rules = table('block 127.0.0.0/8\ndirect localhost');
    assert.equal(routeOf(rules, 'localhost'), Route.Direct, 'localhost is a name here, whatever it resolves to');
    assert.equal(routeOf(rules, 'localhost.localdomain'), Route.Relay);
    assert.equal(routeOf(rules, '127.0.0.1'), Route.Block);
  });

  test('flags come first, in the order given, then the file', () => {
    const flags = [ruleFromFlag(Route.Block, 'a.example.cn'), ruleFromFlag(Route.Direct, '*.example.cn')];
    const rules = new RoutingTable([...flags, ...parseRules('block *.example.cn\ndirect *.cn', FILE)]);
    assert.deepEqual(rules.decide({ host: 'a.example.cn', port: 1 }), { route: Route.Block, rule: '--block a.example.cn' });
    assert.deepEqual(rules.decide({ host: 'b.example.cn', port: 1 }), { route: Route.Direct, rule: '--direct *.example.cn' });
    assert.deepEqual(rules.decide({ host: 'x.cn', port: 1 }), { route: Route.Direct, rule: 'rules.txt:2: direct *.cn' });
  });
});

describe('routing rules: the file and the flags', () => {
  test('comments, blank lines, tabs and CRLF line ends are skipped; each rule names its line', () => {
    const text = '# a list\r\n\r\n   \ndirect\t*.example.cn   # home\r\nblock 198.51.100.0/24\n#relay *\nrelay *';
    const rules = parseRules(text, FILE);
    assert.deepEqual(rules.map((rule) => rule.origin), ['rules.txt:4: direct *.example.cn', 'rules.txt:5: block 198.51.100.0/24', 'rules.txt:7: relay *']);
  });

  const BAD: Array<[string, number, RegExp]> = [
    ['direct *.example.cn\nsend example.org', 2, /"send" is not one of relay, direct, block/],
    ['\n\nblock', 3, /expected "ROUTE TARGET"/],
    ['direct a.example b.example', 1, /expected "ROUTE TARGET"/],
    ['direct ok.example\n# fine\nblock 10.0.0.0/33', 3, /not a valid CIDR/],
    ['block example.cn:0', 1, /port range 0 is not within/],
    ['direct 10.1', 1, /not a CIDR, an IP address, a host name or \*\.domain/],
    ['direct **.example.cn', 1, /not a CIDR/],
    ['direct [::1', 1, /missing "\]"/],
  ];
  for (const [text, line, reason] of BAD) {
    test(`a bad line is refused with file and line: ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseRules(text, FILE), (err: unknown) => {
        assert.ok(err instanceof RulesFileError);
        assert.equal(err.line, line);
        assert.ok(err.message.startsWith(`rules.txt:${line}: `), err.message);
        assert.match(err.message, reason);
        return true;
      });
    });
  }

  test('a missing file is refused naming it', () => {
    assert.throws(() => loadRulesFile('/nonexistent/rules.txt'), /^RulesFileError: \/nonexistent\/rules.txt: cannot read: ENOENT/);
  });

  test('a flag takes the relay\'s TARGET syntax and the same errors', () => {
    assert.equal(ruleFromFlag(Route.Direct, '[::1]:8080').origin, '--direct [::1]:8080');
    assert.throws(() => ruleFromFlag(Route.Block, 'exa mple'), RuleSyntaxError);
    assert.throws(() => ruleFromFlag(Route.Block, '10.0.0.0/8:99999'), RuleSyntaxError);
  });
});

describe('routing rules: a 50,000-line file', () => {
  const DOMAINS = 25_000;
  const NAMES = 20_000;
  const NETWORKS = 5_000;

  /** A converted geosite list: `direct site-N.example` and `direct *.site-N.example`, then blocked /24s. */
  function bigFile(): string {
    const lines: string[] = ['# generated: 50,000 rules'];
    for (let i = 0; i < DOMAINS; i++) lines.push(`direct *.site-${i}.example`);
    for (let i = 0; i < NAMES; i++) lines.push(`direct site-${i}.example`);
    for (let i = 0; i < NETWORKS; i++) lines.push(`block 10.${i >> 8}.${i & 0xff}.0/24`);
    lines.push('relay *');
    return lines.join('\n');
  }

  test('loads from disk and routes each name and address as its line says', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sockbridge-rules-'));
    try {
      const file = join(dir, 'geosite.txt');
      writeFileSync(file, bigFile());
      const rules = new RoutingTable(loadRulesFile(file));
      assert.equal(rules.size, DOMAINS + NAMES + NETWORKS + 1);
      for (let i = 0; i < DOMAINS; i += 7) {
        assert.deepEqual(rules.decide({ host: `www.site-${i}.example`, port: 443 }), { route: Route.Direct, rule: `${file}:${i + 2}: direct *.site-${i}.example` });
        assert.equal(routeOf(rules, `a.b.site-${i}.example`), Route.Direct);
        assert.equal(routeOf(rules, `www.site-${i}.example.evil`), Route.Relay);
        assert.equal(routeOf(rules, `site-${i}.example`), i < NAMES ? Route.Direct : Route.Relay);
      }
      for (let i = 0; i < NETWORKS; i += 3) {
        assert.equal(routeOf(rules, `10.${i >> 8}.${i & 0xff}.77`), Route.Block);
      }
      assert.equal(routeOf(rules, '10.200.0.1'), Route.Relay, 'past the last /24');
      assert.equal(routeOf(rules, 'site-x.example'), Route.Relay);
      assert.equal(routeOf(rules, 'example'), Route.Relay);
      // Constant work per lookup, not a scan: a name costs a probe per label (exact name, then
      // each parent domain) plus the entries found there; an address one per prefix length in use.
      const probesFor = (host: string): number => {
        const before = rules.probes;
        rules.decide({ host, port: 443 });
        return rules.probes - before;
      };
      assert.ok(probesFor('a.b.site-24999.example') <= 12, `${probesFor('a.b.site-24999.example')} probes for a name`);
      assert.ok(probesFor('unlisted.example') <= 8, `${probesFor('unlisted.example')} probes for an unlisted name`);
      assert.ok(probesFor('10.19.135.9') <= 6, `${probesFor('10.19.135.9')} probes for an address`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
