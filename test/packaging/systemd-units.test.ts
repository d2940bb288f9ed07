/**
 * packaging/systemd: `systemd-analyze verify` accepts both units (warnings count as failures),
 * their hardening is what the README promises, and the command lines they run work: the real
 * CLI started with each unit's ExecStart (credentials in a temporary directory for %d) comes
 * up, survives the ExecReload signal and stops on the KillSignal within TimeoutStopSec.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeShareLink } from '../../common/share-link.js';
import { CliProcess, runCli, SOCKBRIDGE_BIN } from '../helpers/processes/cli-process.js';
import { makeSelfSignedCert, opensslMissing } from '../helpers/fixtures/self-signed-cert.js';

const UNIT_DIR = fileURLToPath(new URL('../../../packaging/systemd/', import.meta.url));
const UNITS = ['sockbridge-relay.service', 'sockbridge-client.service'] as const;
const SYSTEMD_ANALYZE = '/usr/bin/systemd-analyze';
/** Where `npm install -g` as root puts the command with Debian's npm (prefix /usr/local). */
const INSTALLED_BIN = '/usr/local/bin/sockbridge';
const START_WAIT_MS = 15_000;
const TOKEN = 'systemd-unit-token';
/** The default --grace; TimeoutStopSec must leave room above it for the drain and go-away. */
const GRACE_S = 10;

/** KEY=VALUE lines of the unit, repeated keys kept in order. */
function directives(text: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (match) map.set(match[1], [...(map.get(match[1]) ?? []), match[2]]);
  }
  return map;
}

function one(map: Map<string, string[]>, key: string): string | undefined {
  const values = map.get(key);
  assert.ok(values === undefined || values.length === 1, `${key} once`);
  return values?.[0];
}

/** The unit's ExecStart as CLI arguments after the binary (the command first), with %d (the credentials directory) substituted. */
function execStartArgs(unit: Map<string, string[]>, credentials: string): string[] {
  const [binary, ...args] = one(unit, 'ExecStart')!.split(/\s+/);
  assert.equal(binary, INSTALLED_BIN);
  return args.map((arg) => arg.replace(/%d/g, credentials));
}

const analyzeMissing = existsSync(SYSTEMD_ANALYZE) ? false : `${SYSTEMD_ANALYZE} is missing (Debian package systemd): the units are not verified`;
if (analyzeMissing) {
  if (process.env.CI === 'true') throw new Error(`${analyzeMissing}, and CI=true demands it`);
  console.log(`# ${analyzeMissing}`);
}

describe('systemd units', { timeout: 90_000 }, () => {
  const units = new Map<string, Map<string, string[]>>();
  const texts = new Map<string, string>();
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sockbridge-units-'));
    for (const name of UNITS) {
      const text = await readFile(join(UNIT_DIR, name), 'utf8');
      texts.set(name, text);
      units.set(name, directives(text));
    }
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('systemd-analyze verify accepts both, with ExecStart pointed at the built CLI', { skip: analyzeMissing }, async () => {
    const copies: string[] = [];
    for (const name of UNITS) {
      const copy = join(dir, name);
      await writeFile(copy, texts.get(name)!.replaceAll(INSTALLED_BIN, `${process.execPath} ${SOCKBRIDGE_BIN}`));
      copies.push(copy);
    }
    const result = spawnSync(SYSTEMD_ANALYZE, ['verify', ...copies], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(result.status, 0, result.stderr);
    // Unknown or misspelt keys are only warnings to systemd ("Unknown key …, ignoring"): not here.
    assert.equal(result.stderr.trim(), '', 'no warnings');
  });

  test('hardening: a dynamic user, no new privileges, a read-only system, CAP_NET_BIND_SERVICE for the relay only', () => {
    for (const name of UNITS) {
      const unit = units.get(name)!;
      for (const [key, value] of [['DynamicUser', 'yes'], ['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'], ['PrivateTmp', 'yes'], ['KillSignal', 'SIGTERM']]) {
        assert.equal(one(unit, key), value, `${name}: ${key}`);
      }
      assert.equal(one(unit, 'ExecReload'), '/bin/kill -HUP $MAINPID', name);
      assert.ok(Number.parseInt(one(unit, 'TimeoutStopSec')!, 10) > GRACE_S, `${name}: TimeoutStopSec above the grace`);
      assert.ok(!one(unit, 'ExecStart')!.includes(TOKEN) && !/--token(?!-file)|--link(?!-file)/.test(one(unit, 'ExecStart')!), `${name}: no secret on the command line`);
    }
    const relay = units.get('sockbridge-relay.service')!;
    assert.equal(one(relay, 'AmbientCapabilities'), 'CAP_NET_BIND_SERVICE');
    assert.equal(one(relay, 'CapabilityBoundingSet'), 'CAP_NET_BIND_SERVICE');
    assert.ok(relay.get('LoadCredential')!.includes('token:/etc/sockbridge/token'));
    const client = units.get('sockbridge-client.service')!;
    assert.equal(one(client, 'AmbientCapabilities'), undefined);
    assert.equal(one(client, 'CapabilityBoundingSet'), '');
    assert.deepEqual(client.get('LoadCredential'), ['link:/etc/sockbridge/link']);
  });

  test("the units' command lines run: up, a reload (SIGHUP) survived, a stop (SIGTERM) is exit 0", { skip: opensslMissing() }, async (t) => {
    const cert = await makeSelfSignedCert();
    const processes: CliProcess[] = [];
    try {
      const credentials = join(dir, 'credentials');
      await mkdir(credentials);
      await writeFile(join(credentials, 'token'), `${TOKEN}\n`);
      await writeFile(join(credentials, 'tls-cert'), cert.cert);
      await writeFile(join(credentials, 'tls-key'), cert.key);
      const relayArgs = execStartArgs(units.get('sockbridge-relay.service')!, credentials);
      // Loopback and a free port instead of 0.0.0.0:443 (a later --listen wins).
      const relay = new CliProcess([...relayArgs, '--listen', '127.0.0.1:0']);
      processes.push(relay);
      const [, url] = await relay.waitFor(/relay listening .*url=(wss:\/\/\S+)/, START_WAIT_MS);
      const link = encodeShareLink({ relayUrl: url, token: TOKEN, fingerprint: cert.fingerprint, host: null, sni: null, label: null });
      await writeFile(join(credentials, 'link'), `${link}\n`);
      const client = new CliProcess([...execStartArgs(units.get('sockbridge-client.service')!, credentials), '--socks', '127.0.0.1:0']);
      processes.push(client);
      await client.waitFor(/tunnel up/, START_WAIT_MS);
      // The relay re-reads its --token-file; the client, with a link and no rules, has nothing to reload.
      for (const [proc, reloaded] of [[relay, /settings reloaded tokens=1/], [client, /SIGHUP: nothing to reload/]] as const) {
        proc.signal('SIGHUP');
        await proc.waitFor(reloaded);
      }
      for (const proc of [client, relay]) {
        proc.signal('SIGTERM');
        assert.deepEqual(await proc.waitExit(GRACE_S * 1000 + 5_000), { code: 0, signal: null }, proc.output);
      }
    } finally {
      for (const proc of processes) await proc.stop();
      await cert.remove();
    }
  });
});
