/**
 * The users file: parsing and validation (every message names the file, the entry and the
 * field), token hashes compared against presented tokens, rule order per user, and rules
 * limited to commands.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { DestinationPolicy } from '../../server/policy/destination-policy.js';
import { parseTargetRule } from '../../server/policy/target-rule.js';
import { Accounts } from '../../server/tunnel/accounts.js';
import { parseUsersFile, UsersFileError } from '../../server/tunnel/users-file.js';
import { ConfigError } from '../../server/config.js';

const FILE = 'users.json';
const sha = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');
const ALICE = { name: 'alice', tokenSha256: sha('alice-token') };
const BOB = { name: 'bob', tokenSha256: sha('bob-token') };
const parse = (doc: unknown): ReturnType<typeof parseUsersFile> => parseUsersFile(JSON.stringify(doc), FILE);
const DEFAULTS = { rules: [], maxTunnels: 32, maxStreams: 16_384 };

describe('parseUsersFile: valid files', () => {
  test('the README example', () => {
    const parsed = parse({
      users: [
        {
          ...ALICE,
          maxTunnels: 4,
          maxStreams: 1000,
          rules: [
            { action: 'allow', target: '10.1.2.0/24:5432', commands: ['connect'] },
            { action: 'deny', target: '*.internal.example' },
          ],
        },
      ],
      rules: [{ action: 'allow', target: '127.0.0.0/8' }],
    });
    assert.equal(parsed.users.length, 1);
    const [alice] = parsed.users;
    assert.equal(alice.name, 'alice');
    assert.equal(alice.tokenSha256.toString('hex'), ALICE.tokenSha256);
    assert.equal(alice.maxTunnels, 4);
    assert.equal(alice.maxStreams, 1000);
    assert.deepEqual(alice.rules.map((rule) => rule.describe()), [
      'users.json users[0].rules[0]: allow 10.1.2.0/24:5432 (connect)',
      'users.json users[0].rules[1]: deny *.internal.example',
    ]);
    assert.deepEqual(parsed.rules.map((rule) => rule.describe()), ['users.json rules[0]: allow 127.0.0.0/8']);
  });

  test('optional fields default to null and empty; uppercase hex is accepted', () => {
    const parsed = parse({ users: [{ name: 'bob', tokenSha256: BOB.tokenSha256.toUpperCase() }] });
    assert.deepEqual(
      { maxTunnels: parsed.users[0].maxTunnels, maxStreams: parsed.users[0].maxStreams, rules: parsed.users[0].rules, global: parsed.rules },
      { maxTunnels: null, maxStreams: null, rules: [], global: [] },
    );
    assert.equal(parsed.users[0].tokenSha256.toString('hex'), BOB.tokenSha256);
  });

  test('an empty users list is valid', () => {
    assert.deepEqual(parse({ users: [] }).users, []);
  });

  test('YAML works as well as JSON', () => {
    const yaml = `# users.yaml
users:
  - name: alice
    tokenSha256: ${ALICE.tokenSha256}
    maxTunnels: 2
    rules:
      - { action: allow, target: 10.0.0.0/8, commands: [connect] }
rules:
  - action: deny
    target: "*.internal.example"
`;
    const parsed = parseUsersFile(yaml, 'users.yaml');
    assert.equal(parsed.users[0].name, 'alice');
    assert.equal(parsed.users[0].maxTunnels, 2);
    assert.deepEqual(parsed.users[0].rules.map((rule) => rule.action), ['allow']);
    assert.deepEqual(parsed.rules.map((rule) => rule.action), ['deny']);
  });

  test('a YAML hash of digits only, unquoted, is read as a number: the message says to quote it', () => {
    assert.throws(() => parseUsersFile(`users:\n  - name: bob\n    tokenSha256: ${'1'.repeat(64)}\n`, 'users.yaml'), /users\[0\]\.tokenSha256: expected 64 hex digits in quotes/);
  });
});

describe('parseUsersFile: invalid files fail naming the file, the entry and the field', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{ users: ', /^--users users\.json: not valid YAML or JSON/],
    ['an array at the top', '[]', /^--users users\.json: expected an object$/],
    ['a misspelt top-level key', JSON.stringify({ users: [], rule: [] }), /^--users users\.json: rule: unknown field/],
    ['no users', JSON.stringify({ rules: [] }), /^--users users\.json: users: expected an array/],
    ['a user that is not an object', JSON.stringify({ users: ['alice'] }), /^--users users\.json: users\[0\]: expected an object/],
    ['a missing name', JSON.stringify({ users: [{ tokenSha256: ALICE.tokenSha256 }] }), /users\[0\]\.name: expected a name/],
    ['a name with spaces', JSON.stringify({ users: [{ name: 'al ice', tokenSha256: ALICE.tokenSha256 }] }), /users\[0\]\.name: expected a name/],
    ['a name like a --token name', JSON.stringify({ users: [{ name: 'token-1', tokenSha256: ALICE.tokenSha256 }] }), /users\[0\]\.name: "token-1" is reserved/],
    [
      'a short hash',
      JSON.stringify({ users: [ALICE, { name: 'bob', tokenSha256: 'abc' }] }),
      /^--users users\.json: users\[1\]\.tokenSha256: expected 64 hex digits.*\(user "bob"\)$/,
    ],
    ['a hash with a non-hex digit', JSON.stringify({ users: [{ name: 'bob', tokenSha256: 'g'.repeat(64) }] }), /users\[0\]\.tokenSha256: expected 64 hex digits/],
    ['the token itself instead of its hash', JSON.stringify({ users: [{ name: 'bob', token: 'bob-token' }] }), /users\[0\]\.token: unknown field/],
    ['a duplicate name', JSON.stringify({ users: [ALICE, { ...BOB, name: 'alice' }] }), /users\[1\]\.name: "alice" is used by an earlier user/],
    ['a duplicate token', JSON.stringify({ users: [ALICE, { ...ALICE, name: 'bob' }] }), /users\[1\]\.tokenSha256: user "bob" has the same token/],
    ['a zero maxTunnels', JSON.stringify({ users: [{ ...ALICE, maxTunnels: 0 }] }), /users\[0\]\.maxTunnels: expected a positive whole number \(user "alice"\)/],
    ['a fractional maxStreams', JSON.stringify({ users: [{ ...ALICE, maxStreams: 1.5 }] }), /users\[0\]\.maxStreams: expected a positive whole number/],
    ['a string maxStreams', JSON.stringify({ users: [{ ...ALICE, maxStreams: '10' }] }), /users\[0\]\.maxStreams: expected a positive whole number/],
    ['rules that are not an array', JSON.stringify({ users: [{ ...ALICE, rules: {} }] }), /users\[0\]\.rules: expected an array/],
    ['a bad action', JSON.stringify({ users: [{ ...ALICE, rules: [{ action: 'permit', target: '10.0.0.0/8' }] }] }), /users\[0\]\.rules\[0\]\.action: expected "allow" or "deny"/],
    ['a missing target', JSON.stringify({ users: [{ ...ALICE, rules: [{ action: 'allow' }] }] }), /users\[0\]\.rules\[0\]\.target: expected a target/],
    ['a bad target', JSON.stringify({ users: [{ ...ALICE, rules: [{ action: 'allow', target: '10.0.0.0/99' }] }] }), /users\[0\]\.rules\[0\]\.target: "10\.0\.0\.0\/99"/],
    [
      'an unknown command',
      JSON.stringify({ users: [{ ...ALICE, rules: [{ action: 'allow', target: '10.0.0.0/8', commands: ['connect', 'listen'] }] }] }),
      /users\[0\]\.rules\[0\]\.commands: expected a non-empty array of "connect", "bind", "udp"/,
    ],
    ['an empty commands list', JSON.stringify({ users: [{ ...ALICE, rules: [{ action: 'allow', target: '10.0.0.0/8', commands: [] }] }] }), /users\[0\]\.rules\[0\]\.commands: expected a non-empty/],
    ['a bad global rule', JSON.stringify({ users: [], rules: [{ action: 'allow', target: '' }] }), /^--users users\.json: rules\[0\]\.target: /],
  ];
  for (const [name, text, expected] of cases) {
    test(name, () => {
      assert.throws(
        () => parseUsersFile(text, FILE),
        (err: unknown) => {
          assert.ok(err instanceof UsersFileError, 'a UsersFileError');
          assert.ok(err instanceof ConfigError, 'a ConfigError, so the command exits 2');
          assert.match(err.message, expected);
          return true;
        },
      );
    });
  }
});

describe('Accounts: tokens against hashes', () => {
  const users = parse({ users: [ALICE, { ...BOB, maxTunnels: 2, maxStreams: 7 }] });

  test('each token opens its own user; a wrong or missing token opens nothing', () => {
    const accounts = new Accounts([], users, DEFAULTS);
    assert.equal(accounts.match('alice-token')?.name, 'alice');
    assert.equal(accounts.match('bob-token')?.name, 'bob');
    assert.equal(accounts.match('carol-token'), null);
    assert.equal(accounts.match(''), null);
    assert.equal(accounts.match(null), null);
    assert.equal(accounts.match(ALICE.tokenSha256), null, 'the hash itself is no token');
  });

  test('limits come from the user, else the relay defaults', () => {
    const accounts = new Accounts([], users, DEFAULTS);
    assert.deepEqual([accounts.match('alice-token')?.maxTunnels, accounts.match('alice-token')?.maxStreams], [32, 16_384]);
    assert.deepEqual([accounts.match('bob-token')?.maxTunnels, accounts.match('bob-token')?.maxStreams], [2, 7]);
  });

  test('--token tokens keep their names beside the users', () => {
    const accounts = new Accounts(['cli-one', 'cli-two'], users, DEFAULTS);
    assert.equal(accounts.match('cli-one')?.name, 'token-1');
    assert.equal(accounts.match('cli-two')?.name, 'token-2');
    assert.equal(accounts.match('alice-token')?.name, 'alice');
  });

  test('rule order: command line, then the user, then the file, then the safe default', () => {
    const file = parse({
      users: [
        { ...ALICE, rules: [{ action: 'allow', target: '10.0.0.0/8' }, { action: 'deny', target: '127.0.0.2' }] },
        BOB,
      ],
      rules: [{ action: 'allow', target: '127.0.0.0/8' }],
    });
    const accounts = new Accounts(['cli'], file, { ...DEFAULTS, rules: [parseTargetRule('deny', '10.9.0.0/16')] });
    const alice = accounts.match('alice-token')!.policy;
    const bob = accounts.match('bob-token')!.policy;
    const cli = accounts.match('cli')!.policy;
    const at = (ip: string) => ({ name: null, ip, port: 80, command: 'connect' as const });
    assert.equal(alice.decide(at('10.9.1.1')).rule, '--deny 10.9.0.0/16', 'the command line comes first');
    assert.equal(alice.decide(at('10.1.1.1')).allowed, true);
    assert.equal(alice.decide(at('127.0.0.2')).rule, 'users.json users[0].rules[1]: deny 127.0.0.2', 'her rule before the global one');
    assert.equal(alice.decide(at('127.0.0.1')).rule, 'users.json rules[0]: allow 127.0.0.0/8');
    assert.equal(bob.decide(at('10.1.1.1')).rule, 'default: private', "alice's rules are not bob's");
    assert.equal(bob.decide(at('127.0.0.2')).allowed, true, 'the global rules apply to every user');
    assert.equal(cli.decide(at('127.0.0.1')).allowed, true, 'and to --token tunnels');
    assert.equal(cli.decide(at('10.1.1.1')).allowed, false);
  });
});

describe('rules limited to commands', () => {
  const policy = new DestinationPolicy([
    parseTargetRule('allow', '127.0.0.1:5432', { commands: ['connect'] }),
    parseTargetRule('deny', '127.0.0.0/8', { commands: ['udp'] }),
    parseTargetRule('allow', '127.0.0.0/8'),
  ]);
  const cases: Array<[string, 'connect' | 'udp' | undefined, number, boolean, string]> = [
    ['CONNECT to the listed port', 'connect', 5432, true, '--allow 127.0.0.1:5432 (connect)'],
    ['UDP to the listed port skips the connect-only rule', 'udp', 5432, false, '--deny 127.0.0.0/8 (udp)'],
    ['UDP elsewhere is denied', 'udp', 53, false, '--deny 127.0.0.0/8 (udp)'],
    ['CONNECT elsewhere falls to the rule for all commands', 'connect', 80, true, '--allow 127.0.0.0/8'],
    ['a query without a command matches only rules without commands', undefined, 5432, true, '--allow 127.0.0.0/8'],
  ];
  for (const [name, command, port, allowed, rule] of cases) {
    test(name, () => {
      assert.deepEqual(policy.decide({ name: null, ip: '127.0.0.1', port, command }), { allowed, rule });
    });
  }

  test('commands are kept on the rule; absent means all', () => {
    assert.deepEqual(parseTargetRule('allow', '10.0.0.0/8', { commands: ['bind', 'udp'] }).commands, ['bind', 'udp']);
    assert.equal(parseTargetRule('allow', '10.0.0.0/8').commands, null);
  });
});
