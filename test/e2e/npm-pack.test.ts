/**
 * The package as a user gets it: `npm pack` from this checkout, `npm install -g` of the
 * tarball into a temporary prefix (dependencies from the registry), then the installed
 * `sockbridge` command: --help, and a demo carrying a request from curl. Only what the
 * tarball holds is used, so anything the build leaves outside the shipped files that the
 * command needs makes this fail.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { curl } from '../helpers/socks/curl.js';
import { startHttpTarget, type Target } from '../helpers/targets/targets.js';
import { waitFor } from '../helpers/io/waiting.js';

/** The checkout, seen from dist/test/e2e/. */
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
/** npm install fetches the dependencies from the registry: 10-30 s usually, bounded well above. */
const INSTALL_TIMEOUT_MS = 150_000;
const PACK_TIMEOUT_MS = 60_000;
const START_WAIT_MS = 15_000;
const BODY = 'through the installed package\n';

/** Our environment without npm's own variables (an `npm test` run sets npm_config_*), so npm acts as a user's would. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^npm_/i.test(name) && !name.startsWith('SOCKBRIDGE_') && !name.startsWith('NODE_TEST') && name !== 'NODE_OPTIONS' && name !== 'NODE_PATH') env[name] = value;
  }
  return { ...env, ...extra };
}

function run(file: string, args: string[], options: { cwd: string; timeoutMs: number }): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: options.cwd, env: cleanEnv(), timeout: options.timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

describe('npm pack → npm install -g → sockbridge', { timeout: INSTALL_TIMEOUT_MS + PACK_TIMEOUT_MS + 60_000 }, () => {
  let dir: string;
  let bin: string;
  let http: Target;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sockbridge-pack-'));
    http = await startHttpTarget(BODY);
  });
  after(async () => {
    await http?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the tarball holds the built command, the status page and the units, and no tests or bench', async () => {
    // --ignore-scripts: this test runs from the build already made; rebuilding dist/ under other running tests would pull it from under them.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO, timeoutMs: PACK_TIMEOUT_MS });
    const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const files = packed.files.map((file) => file.path);
    for (const needed of ['dist/bin/sockbridge.js', 'dist/cli/link-command.js', 'dist/web/index.html', 'packaging/systemd/sockbridge-relay.service', 'packaging/systemd/sockbridge-client.service', 'README.md']) {
      assert.ok(files.includes(needed), `${needed} is shipped`);
    }
    assert.ok(files.some((file) => file.startsWith('dist/web/assets/')), 'the status page bundle is shipped');
    const unwanted = files.filter((file) => /^dist\/(test|bench)\/|\.map$|\.ts$/.test(file) && !file.endsWith('.d.ts'));
    assert.deepEqual(unwanted, [], 'no tests, bench, sources or source maps');
    const tarball = join(dir, packed.filename);
    const prefix = join(dir, 'prefix');
    await run('npm', ['install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', tarball], { cwd: dir, timeoutMs: INSTALL_TIMEOUT_MS });
    bin = join(prefix, 'bin', 'sockbridge');
    assert.ok(existsSync(bin), `${bin} is installed`);
  });

  test('the installed sockbridge: --help, and a demo carrying curl to a local server', async () => {
    assert.ok(bin, 'installed by the previous test');
    const help = await run(bin, ['--help'], { cwd: dir, timeoutMs: 10_000 });
    assert.match(help.stdout, /^Usage: sockbridge <command>/);
    for (const command of ['relay', 'client', 'demo', 'link']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));

    const demo = spawn(bin, ['demo', '--socks', '127.0.0.1:0'], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    demo.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    demo.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const exited = new Promise<number | null>((resolve) => demo.once('close', (code) => resolve(code)));
    try {
      const socks = await waitFor(() => /SOCKS address: (\S+)/.exec(output)?.[1], { what: () => `the demo's SOCKS address:\n${output}`, timeoutMs: START_WAIT_MS });
      const status = await waitFor(() => /^status: (\S+)/m.exec(output)?.[1], { what: () => `the status page's address:\n${output}`, timeoutMs: START_WAIT_MS });
      const result = await waitFor(async () => {
        const attempt = await curl(['--socks5-hostname', socks, `http://127.0.0.1:${http.port}/`]);
        return attempt.code === 0 ? attempt : false;
      }, { what: () => `curl through the demo:\n${output}`, timeoutMs: START_WAIT_MS });
      assert.equal(result.stdout, BODY);
      // The status page and its bundle come from the shipped dist/web/.
      const password = /the password (\S+)/.exec(output)![1];
      const page = await curl(['--fail', '--user', `admin:${password}`, status]);
      assert.equal(page.code, 0, page.stderr);
      const script = /src="([^"]*assets\/[^"]+\.js)"/.exec(page.stdout);
      assert.ok(script, `the page loads its bundle:\n${page.stdout}`);
      const bundle = await curl(['--fail', '--user', `admin:${password}`, new URL(script[1], status).href]);
      assert.equal(bundle.code, 0, bundle.stderr);
      demo.kill('SIGTERM');
      assert.equal(await Promise.race([exited, new Promise((resolve) => setTimeout(() => resolve('timeout'), 15_000))]), 0, output);
    } finally {
      demo.kill('SIGKILL');
    }
  });
});
