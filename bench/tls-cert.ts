/**
 * A self-signed certificate for the bench's wss:// route, made with the openssl CLI in a
 * temporary folder: the relay serves it, the client pins it with --fingerprint, as users run
 * a relay without a CA.
 */
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface BenchCert {
  certFile: string;
  keyFile: string;
  /** SHA-256 of the certificate, as --fingerprint takes it. */
  fingerprint: string;
  remove(): Promise<void>;
}

const OPENSSL_TIMEOUT_MS = 10_000;

export async function makeBenchCert(): Promise<BenchCert> {
  const dir = await mkdtemp(join(tmpdir(), 'sockbridge-bench-tls-'));
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const args = ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-keyout', keyFile, '-out', certFile, '-subj', '/CN=localhost'];
  await new Promise<void>((resolve, reject) => {
    execFile('openssl', args, { timeout: OPENSSL_TIMEOUT_MS }, (err, _stdout, stderr) => (err ? reject(new Error(`openssl failed: ${stderr}`)) : resolve()));
  });
  const fingerprint = new X509Certificate(await readFile(certFile)).fingerprint256;
  return { certFile, keyFile, fingerprint, remove: () => rm(dir, { recursive: true, force: true }) };
}
