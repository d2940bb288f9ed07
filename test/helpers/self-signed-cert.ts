/** A throwaway self-signed certificate for localhost and 127.0.0.1, made with the openssl CLI. */
import { execFile, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestCert {
  dir: string;
  certFile: string;
  keyFile: string;
  cert: Buffer;
  key: Buffer;
  /** SHA-256 as openssl and Node print it: "AB:CD:…". */
  fingerprint: string;
  remove(): Promise<void>;
}

/** Why TLS tests must be skipped, or false when openssl is there. */
export function opensslMissing(): string | false {
  const probe = spawnSync('openssl', ['version'], { stdio: 'ignore' });
  return probe.status === 0 ? false : 'the openssl CLI is not installed: TLS tests skipped';
}

/** Async, as the relay and the client under test may live in this process. */
export async function makeSelfSignedCert(): Promise<TestCert> {
  const dir = await mkdtemp(join(tmpdir(), 'sockbridge-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2'];
  args.push('-keyout', keyFile, '-out', certFile, '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    execFile('openssl', args, { timeout: 10_000 }, (err, _stdout, stderr) => (err ? reject(new Error(`openssl failed: ${stderr}`)) : resolve()));
  });
  const cert = await readFile(certFile);
  const key = await readFile(keyFile);
  return {
    dir,
    certFile,
    keyFile,
    cert,
    key,
    fingerprint: new X509Certificate(cert).fingerprint256,
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}
