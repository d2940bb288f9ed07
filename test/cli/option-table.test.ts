/**
 * The option tables and their parser: kinds become typed values, the environment stands in
 * for defaults, a config file (YAML or JSON) is overridden by the command line, every error
 * names its source (the flag, the variable, or FILE: key), and a misspelt key gets a suggestion.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../../cli/args.js';
import { CLIENT_OPTIONS } from '../../cli/options/client-options.js';
import { closestName, editDistance } from '../../cli/options/did-you-mean.js';
import { renderOptions } from '../../cli/options/help.js';
import { resolveOptions } from '../../cli/options/parse.js';
import { RELAY_OPTIONS } from '../../cli/options/relay-options.js';
import { CLIENT_DEFAULTS } from '../../client/config.js';
import { RELAY_DEFAULTS } from '../../server/config.js';

let dir: string;
let previousCwd: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'sockbridge-options-'));
  // Relative names, as a user types them, so messages read "relay.yaml: key: …".
  previousCwd = process.cwd();
  process.chdir(dir);
});

after(async () => {
  process.chdir(previousCwd);
  await rm(dir, { recursive: true, force: true });
});

function relay(argv: string[], env: NodeJS.ProcessEnv = {}) {
  return resolveOptions(RELAY_OPTIONS, { argv, env });
}

function refused(run: () => unknown, message: string | RegExp): void {
  assert.throws(run, (err: unknown) => {
    assert.ok(err instanceof UsageError, `a UsageError, got ${String(err)}`);
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('option tables: defaults and kinds', () => {
  test("the relay's defaults are RELAY_DEFAULTS, in the units the relay uses", () => {
    const values = relay([]);
    assert.deepEqual(values.get('listen'), RELAY_DEFAULTS.listen);
    assert.equal(values.get('path'), RELAY_DEFAULTS.path);
    assert.equal(values.get('dial-timeout'), RELAY_DEFAULTS.dialTimeoutMs);
    assert.equal(values.get('idle-timeout'), RELAY_DEFAULTS.idleTimeoutMs);
    assert.equal(values.get('max-streams'), RELAY_DEFAULTS.maxStreamsPerTunnel);
    assert.equal(values.get('max-pending-bytes'), RELAY_DEFAULTS.maxPendingBytes);
    assert.equal(values.get('max-frame-size'), RELAY_DEFAULTS.maxFrameSize);
    assert.equal(values.get('udp-replies'), RELAY_DEFAULTS.udpReplies);
    assert.equal(values.get('log-level'), 'info');
    assert.equal(values.get('token'), undefined);
    assert.equal(values.get('admin-token'), undefined);
  });

  test("the client's defaults are CLIENT_DEFAULTS", () => {
    const values = resolveOptions(CLIENT_OPTIONS, { argv: [], env: {} });
    assert.deepEqual(values.get('socks'), CLIENT_DEFAULTS.socks);
    assert.deepEqual(values.get('dns-upstream'), CLIENT_DEFAULTS.dnsUpstream);
    assert.equal(values.get('tunnel-wait'), CLIENT_DEFAULTS.tunnelWaitMs);
    assert.equal(values.get('fast-open'), CLIENT_DEFAULTS.fastOpen);
  });

  test('seconds become milliseconds, counts whole numbers, HOST:PORT an address, LOW-HIGH a range', () => {
    const values = relay(['--dial-timeout', '2.5', '--max-streams', '7', '--listen', '[::1]:9000', '--bind-ports', '40000-40010', '--udp-replies', 'any']);
    assert.equal(values.get('dial-timeout'), 2500);
    assert.equal(values.get('max-streams'), 7);
    assert.deepEqual(values.get('listen'), { host: '::1', port: 9000 });
    assert.deepEqual(values.get('bind-ports'), { low: 40000, high: 40010 });
    assert.equal(values.get('udp-replies'), 'any');
  });

  test('a bad value on the command line names the flag', () => {
    refused(() => relay(['--max-streams', 'many']), '--max-streams: "many" is not a positive whole number');
    refused(() => relay(['--max-streams', '1.5']), '--max-streams: "1.5" is not a positive whole number');
    refused(() => relay(['--dial-timeout', '0']), '--dial-timeout: "0" is not a positive number of seconds');
    refused(() => relay(['--listen', 'nowhere']), '--listen: "nowhere" is not HOST:PORT');
    refused(() => relay(['--udp-replies', 'some']), '--udp-replies: "some" is not one of contacted, any');
    refused(() => relay(['--bind-ports', '9-']), '--bind-ports: "9-" is not LOW-HIGH');
    refused(() => relay(['--max-streamz', '5']), /Unknown option '--max-streamz'/);
  });
});

describe('option tables: environment, config file, command line', () => {
  test('the environment stands in for the default: SOCKBRIDGE_TOKEN comma-separated, SOCKBRIDGE_LOG_LEVEL', () => {
    const values = relay([], { SOCKBRIDGE_TOKEN: 'one, two,,', SOCKBRIDGE_LOG_LEVEL: 'warn', SOCKBRIDGE_ADMIN_TOKEN: 'admin' });
    assert.deepEqual(values.get('token'), ['one', 'two']);
    assert.equal(values.source('token'), 'SOCKBRIDGE_TOKEN');
    assert.equal(values.get('log-level'), 'warn');
    assert.equal(values.get('admin-token'), 'admin');
    refused(() => relay([], { SOCKBRIDGE_LOG_LEVEL: 'loud' }), 'SOCKBRIDGE_LOG_LEVEL: "loud" is not one of debug, info, warn, error, silent');
  });

  test('the command line overrides the file, the file overrides the environment and the defaults', async () => {
    await writeFile('relay.yaml', 'listen: 127.0.0.1:9001\nmax-streams: 100\ndial-timeout: 1.5\ntoken: [from-file-1, from-file-2]\nlog-level: error\n');
    const values = relay(['--config', 'relay.yaml', '--max-streams', '5'], { SOCKBRIDGE_TOKEN: 'from-env', SOCKBRIDGE_LOG_LEVEL: 'debug' });
    assert.equal(values.get('max-streams'), 5);
    assert.equal(values.source('max-streams'), '--max-streams');
    assert.deepEqual(values.get('listen'), { host: '127.0.0.1', port: 9001 });
    assert.equal(values.source('listen'), 'relay.yaml: listen');
    assert.equal(values.get('dial-timeout'), 1500);
    assert.deepEqual(values.get('token'), ['from-file-1', 'from-file-2']);
    assert.equal(values.get('log-level'), 'error');
    assert.equal(values.get('bind-timeout'), RELAY_DEFAULTS.bindTimeoutMs, 'neither given: the default');
    assert.equal(values.configFile, 'relay.yaml');
    const overridden = relay(['--config', 'relay.yaml', '--token', 'from-flag']);
    assert.deepEqual(overridden.get('token'), ['from-flag'], 'a repeatable option on the command line replaces the list in the file');
  });

  test('JSON is YAML: a client from a JSON file', async () => {
    await writeFile('client.json', JSON.stringify({ relay: 'ws://127.0.0.1:1/tunnel', token: 't', socks: '127.0.0.1:0', header: ['X-A: 1', 'X-B: 2'], 'tunnel-wait': 3 }));
    const values = resolveOptions(CLIENT_OPTIONS, { argv: ['--config', 'client.json'], env: {} });
    assert.deepEqual(values.get('relay'), ['ws://127.0.0.1:1/tunnel'], 'a repeatable option: one relay is a list of one');
    assert.deepEqual(values.get('socks'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(values.get('header'), ['X-A: 1', 'X-B: 2']);
    assert.equal(values.get('tunnel-wait'), 3000);
  });

  test('a misspelt key is refused naming the file, with the closest option', async () => {
    await writeFile('relay.yaml', 'token: [t]\nmax-streamz: 5\n');
    refused(() => relay(['--config', 'relay.yaml']), 'relay.yaml: max-streamz: unknown option (did you mean max-streams?)');
    await writeFile('relay.yaml', 'lisen: 127.0.0.1:1\n');
    refused(() => relay(['--config', 'relay.yaml']), 'relay.yaml: lisen: unknown option (did you mean listen?)');
    await writeFile('relay.yaml', 'completely-different: 1\n');
    refused(() => relay(['--config', 'relay.yaml']), 'relay.yaml: completely-different: unknown option (see sockbridge relay --help)');
  });

  test('a wrong type or a bad value in the file names the file, the key and what was expected', async () => {
    const cases: Array<[string, string]> = [
      ['max-streams: many\n', 'relay.yaml: max-streams: "many" is not a positive whole number'],
      ['max-streams: -3\n', 'relay.yaml: max-streams: "-3" is not a positive whole number'],
      ['max-streams: [1]\n', 'relay.yaml: max-streams: expected a positive whole number, got a list'],
      ['dial-timeout: {s: 1}\n', 'relay.yaml: dial-timeout: expected a positive number of seconds, got a mapping'],
      ['listen: 8080\n', 'relay.yaml: listen: expected text (HOST:PORT; quote it), got number 8080'],
      ['listen: nowhere\n', 'relay.yaml: listen: "nowhere" is not HOST:PORT'],
      ['token: 12345\n', 'relay.yaml: token: expected text or a list of text, got number 12345 (quote it)'],
      ['udp-replies: some\n', 'relay.yaml: udp-replies: "some" is not one of contacted, any'],
      ['path:\n', 'relay.yaml: path: expected text (PATH; quote it), got nothing (null)'],
    ];
    for (const [text, message] of cases) {
      await writeFile('relay.yaml', text);
      refused(() => relay(['--config', 'relay.yaml']), message);
    }
  });

  test('a file that is not a mapping, not YAML, or missing is refused naming it', async () => {
    await writeFile('relay.yaml', '- a\n- b\n');
    refused(() => relay(['--config', 'relay.yaml']), /^relay\.yaml: expected a mapping of option names/);
    await writeFile('relay.yaml', 'listen: [unclosed\n');
    refused(() => relay(['--config', 'relay.yaml']), /^relay\.yaml: not valid YAML or JSON/);
    await writeFile('relay.yaml', 'listen: a\nlisten: b\n');
    refused(() => relay(['--config', 'relay.yaml']), /^relay\.yaml: not valid YAML or JSON: .*[Uu]nique/);
    refused(() => relay(['--config', 'missing.yaml']), '--config: cannot read "missing.yaml" (ENOENT)');
  });
});

describe('option tables: ordered rule lists', () => {
  test('--allow and --deny keep their order across the two names', () => {
    const rules = relay(['--allow', 'a.example', '--deny', '10.0.0.0/8', '--allow', 'b.example']).rules('rules');
    assert.deepEqual(rules.map(({ action, value }) => `${action} ${value}`), ['allow a.example', 'deny 10.0.0.0/8', 'allow b.example']);
  });

  test('in a file: one ordered rules: list, or a list under one action; both actions apart are refused', async () => {
    await writeFile('relay.yaml', 'rules:\n  - deny: 10.0.0.0/8\n  - allow: "*.example"\n');
    const rules = relay(['--config', 'relay.yaml']).rules('rules');
    assert.deepEqual(rules.map(({ action, value, source }) => `${action} ${value} ${source}`), ['deny 10.0.0.0/8 relay.yaml: rules[0].deny', 'allow *.example relay.yaml: rules[1].allow']);
    await writeFile('relay.yaml', 'allow: [127.0.0.0/8, "::1/128"]\n');
    assert.deepEqual(relay(['--config', 'relay.yaml']).rules('rules').map(({ value }) => value), ['127.0.0.0/8', '::1/128']);
    assert.deepEqual(relay(['--config', 'relay.yaml', '--deny', '*']).rules('rules').map(({ action }) => action), ['deny'], 'the command line replaces the whole list');
    await writeFile('relay.yaml', 'allow: [a]\ndeny: [b]\n');
    refused(() => relay(['--config', 'relay.yaml']), /^relay\.yaml: deny: with both allow and deny, their order matters: give them as one "rules:" list/);
    await writeFile('relay.yaml', 'rules:\n  - permit: a\n');
    refused(() => relay(['--config', 'relay.yaml']), /^relay\.yaml: rules\[0\]: expected one of \{allow: TARGET\}, \{deny: TARGET\}/);
  });

  test("the client's --direct/--block group is routes:, since rules: is its rules file", async () => {
    await writeFile('client.yaml', 'relay: ws://127.0.0.1:1/tunnel\nrules: more.rules\nroutes:\n  - direct: "*.lan"\n  - block: 198.51.100.0/24\n');
    const values = resolveOptions(CLIENT_OPTIONS, { argv: ['--config', 'client.yaml'], env: {} });
    assert.equal(values.get('rules'), 'more.rules');
    assert.deepEqual(values.rules('routes').map(({ action, value }) => `${action} ${value}`), ['direct *.lan', 'block 198.51.100.0/24']);
  });
});

describe('did you mean', () => {
  test('edit distance and the closest name', () => {
    assert.equal(editDistance('max-streamz', 'max-streams'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(closestName('max-stream', ['max-streams', 'max-binds']), 'max-streams');
    assert.equal(closestName('tokn-file', ['token', 'token-file']), 'token-file');
    assert.equal(closestName('xyz', ['listen', 'path']), null);
  });
});

describe('--help from the tables', () => {
  test("every option's flag, value, default and env var appear in its command's --help", () => {
    for (const table of [RELAY_OPTIONS, CLIENT_OPTIONS]) {
      const help = renderOptions(table).replace(/\s+/g, ' ');
      for (const spec of table.options) {
        assert.ok(help.includes(`--${spec.name} ${spec.arg}`), `${table.command} --help shows --${spec.name} ${spec.arg}`);
        const shown = spec.defaultText ?? spec.default;
        if (shown !== undefined) assert.ok(help.includes(`default ${shown}`), `${table.command} --help shows --${spec.name}'s default ${shown}`);
        if (spec.env !== undefined) assert.ok(help.includes(`env ${spec.env}`), `${table.command} --help names ${spec.env}`);
      }
    }
  });

  test('no option is declared twice', () => {
    for (const table of [RELAY_OPTIONS, CLIENT_OPTIONS]) {
      const names = table.options.map((spec) => spec.name);
      assert.equal(new Set(names).size, names.length, table.command);
    }
  });
});
