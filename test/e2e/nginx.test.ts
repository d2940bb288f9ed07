/**
 * The relay behind a TLS-terminating nginx, as the README's "Behind nginx" section sets it up:
 * real relay and client processes, the relay on plain ws:// on loopback, nginx serving
 * wss://localhost with a self-signed certificate the client trusts with --ca, and curl
 * through the client's SOCKS listener. And the README's CDN set-up: nginx serving one Host
 * name only, with the client's --host, --sni and --header checked where they arrive, in front
 * of the relay.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startClientProcess, startRelayProcess, waitStatus, type ClientProcess, type RelayProcess } from '../helpers/processes/cli-stack.js';
import { curl } from '../helpers/socks/curl.js';
import { nginxMissing, startNginx, type Nginx } from '../helpers/processes/nginx.js';
import { makeSelfSignedCert, opensslMissing, type TestCert } from '../helpers/fixtures/self-signed-cert.js';
import { startHttpTarget, startTarget, type Target } from '../helpers/targets/targets.js';
import { startUpgradeSpy, type UpgradeSpy } from '../helpers/links/upgrade-spy.js';
import { waitFor } from '../helpers/io/waiting.js';

const MiB = 1024 * 1024;
const BODY = 'through nginx and the tunnel\n';
const CURL_WAIT_MS = 20_000;

/** Answers one HTTP request with `body` (binary, any size) and closes. */
function startBlobTarget(body: Buffer): Promise<Target> {
  return startTarget((socket) => {
    socket.once('data', () => {
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
      socket.end(body);
    });
  });
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

const skip = opensslMissing() || nginxMissing();
if (skip) console.log(`# ${skip}`);

describe('relay behind nginx (TLS terminated by nginx, wss:// to the client)', { skip, timeout: 90_000 }, () => {
  let cert: TestCert;
  let relay: RelayProcess | undefined;
  let nginx: Nginx | undefined;
  let client: ClientProcess | undefined;
  let http: Target;
  let blob: Target;
  const blobBody = randomBytes(MiB);

  before(async () => {
    cert = await makeSelfSignedCert();
    [http, blob] = await Promise.all([startHttpTarget(BODY), startBlobTarget(blobBody)]);
  });

  after(async () => {
    await client?.proc.stop();
    await nginx?.stop();
    await relay?.proc.stop();
    await Promise.all([http?.close(), blob?.close()]);
    await cert?.remove();
  });

  test('a client with --relay wss://localhost:NGINX/tunnel --ca carries curl, and 1 MiB checks out', async () => {
    try {
      relay = await startRelayProcess();
      nginx = await startNginx({ upstreamPort: relay.port, certFile: cert.certFile, keyFile: cert.keyFile });
      client = await startClientProcess(`wss://localhost:${nginx.port}/tunnel`, ['--ca', cert.certFile]);
      const status = await waitStatus(relay.port, 'the tunnel through nginx', (s) => s.totals.tunnels === 1, 15_000);
      assert.match(status.tunnels[0].remote, /^127\.0\.0\.1:/, 'the relay sees nginx as the tunnel peer');

      const proxy = ['--socks5-hostname', `127.0.0.1:${client.socksPort}`];
      const small = await curl([...proxy, `http://127.0.0.1:${http.port}/`], CURL_WAIT_MS);
      assert.equal(small.code, 0, `curl: ${small.stderr}\nclient: ${client.proc.output}\nnginx: ${nginx.output}`);
      assert.equal(small.stdout, BODY);

      const file = join(cert.dir, 'download.bin');
      const big = await curl([...proxy, '--output', file, `http://127.0.0.1:${blob.port}/blob`], CURL_WAIT_MS);
      assert.equal(big.code, 0, `curl: ${big.stderr}`);
      const downloaded = await readFile(file);
      assert.equal(downloaded.length, MiB);
      assert.equal(sha256(downloaded), sha256(blobBody), 'the 1 MiB download is byte for byte what the target sent');
    } finally {
      await nginx?.stop(); // nginx never outlives the test, whatever failed
    }
  });
});

describe('the CDN flags through nginx: --host picks the server, --sni and --header reach the relay', { skip, timeout: 90_000 }, () => {
  const BACKEND = 'backend.example';
  let cert: TestCert;
  let relay: RelayProcess | undefined;
  let spy: UpgradeSpy | undefined;
  let nginx: Nginx | undefined;
  let http: Target;

  before(async () => {
    cert = await makeSelfSignedCert();
    http = await startHttpTarget(BODY);
    relay = await startRelayProcess();
    // The relay cannot show request headers, so a plain pass-through in front of it records them.
    spy = await startUpgradeSpy({ upstreamPort: relay.port });
    nginx = await startNginx({ upstreamPort: spy.port, certFile: cert.certFile, keyFile: cert.keyFile, serverName: BACKEND });
  });

  after(async () => {
    await nginx?.stop();
    await spy?.close();
    await relay?.proc.stop();
    await http?.close();
    await cert?.remove();
  });

  test('--host backend.example --sni localhost --header X-Cdn-Key: the relay sees all three, and curl works', async () => {
    let client: ClientProcess | undefined;
    try {
      // The URL names nginx by IP: the SNI, if any, can only come from --sni.
      client = await startClientProcess(`wss://127.0.0.1:${nginx!.port}/tunnel`, ['--ca', cert.certFile, '--sni', 'localhost', '--host', BACKEND, '--header', 'X-Cdn-Key: k-42']);
      const seen = await waitFor(() => spy!.seen.find((entry) => entry.requestLine !== null), { what: 'the upgrade at the relay', timeoutMs: 15_000 });
      assert.deepEqual(seen.headers.host, [BACKEND], 'nginx served the --host name and passed it on');
      assert.deepEqual(seen.headers['x-forwarded-sni'], ['localhost'], 'nginx saw the --sni name');
      assert.deepEqual(seen.headers['x-cdn-key'], ['k-42'], 'the --header reached the relay');
      await waitStatus(relay!.port, 'the tunnel through nginx', (s) => s.totals.tunnels === 1, 15_000);
      const result = await curl(['--socks5-hostname', `127.0.0.1:${client.socksPort}`, `http://127.0.0.1:${http.port}/`], CURL_WAIT_MS);
      assert.equal(result.code, 0, `curl: ${result.stderr}\nclient: ${client.proc.output}\nnginx: ${nginx!.output}`);
      assert.equal(result.stdout, BODY);
    } finally {
      await client?.proc.stop();
    }
  });

  test('without --host nginx answers 421 (no server for that name) and nothing reaches the relay', async () => {
    const connectionsBefore = spy!.seen.length;
    let client: ClientProcess | undefined;
    try {
      client = await startClientProcess(`wss://localhost:${nginx!.port}/tunnel`, ['--ca', cert.certFile]);
      await client.proc.waitFor(/relay answered HTTP 421/, 15_000);
      assert.equal(spy!.seen.length, connectionsBefore, 'no connection to the relay');
    } finally {
      await client?.proc.stop();
    }
  });
});
