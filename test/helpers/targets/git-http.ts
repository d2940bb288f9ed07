/**
 * A git repository served over git's "dumb" HTTP transport: a bare repository after
 * `git update-server-info`, its files served as they are by a Node http.Server. Real git
 * clones from it with plain GETs (which is what an HTTP proxy carries).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';

export const GIT = '/usr/bin/git';

export interface GitHttpRepo {
  /** `http://host:port/repo.git` */
  url: string;
  /** Paths the server was asked for, in order. */
  requests: string[];
  /** A file committed in the repository and its content. */
  file: { name: string; content: string };
  close(): Promise<void>;
}

/** Runs git asynchronously (the proxy under test lives in this process), without the caller's config or proxies. */
export function git(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmpdir(), GIT_CONFIG_NOSYSTEM: '1', GIT_TERMINAL_PROMPT: '0', ...options.env };
  return new Promise((resolve) => {
    execFile(GIT, args, { cwd: options.cwd, env, timeout: options.timeoutMs ?? 20_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : -1;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function mustGit(args: string[], cwd?: string): Promise<void> {
  const result = await git(['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args], { cwd });
  if (result.code !== 0) throw new Error(`git ${args.join(' ')} failed: ${result.stderr}`);
}

export async function startGitHttpRepo(host = '127.0.0.1'): Promise<GitHttpRepo> {
  const dir = await mkdtemp(join(tmpdir(), 'sockbridge-git-'));
  const work = join(dir, 'work');
  const bare = join(dir, 'repo.git');
  const file = { name: 'README.txt', content: `cloned through the proxy ${Date.now()}\n` };
  await mustGit(['init', '-q', '-b', 'main', work]);
  await writeFile(join(work, file.name), file.content);
  await mustGit(['add', file.name], work);
  await mustGit(['commit', '-q', '-m', 'first'], work);
  await mustGit(['clone', '-q', '--bare', work, bare]);
  await mustGit(['update-server-info'], bare);
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent((req.url ?? '/').split('?')[0]);
    requests.push(path);
    const local = normalize(join(dir, path));
    if (!local.startsWith(bare)) return void res.writeHead(404).end();
    readFile(local).then(
      (content) => res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': content.length }).end(content),
      () => res.writeHead(404).end(),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://${host}:${port}/repo.git`,
    requests,
    file,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
