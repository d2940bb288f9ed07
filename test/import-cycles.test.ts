/**
 * No module imports itself back, directly or through others. Reads the TypeScript sources
 * (not dist/), because `import type` lines vanish from the compiled JS yet still tie two
 * files together; every relative import, export-from and dynamic import() counts.
 * Also: the status layer, which the web page shares, reaches nothing else of the relay.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** Everything written here: the product, the page, and the tests and bench that drive them. */
const SOURCE_DIRS = ['protocol', 'client', 'server', 'common', 'cli', 'bin', 'web/src', 'test', 'bench'];

type Graph = Map<string, string[]>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The .ts files `file` imports by a relative path (`./x.js` is written for `./x.ts`). */
function relativeImports(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return info.importedFiles
    .map((imported) => imported.fileName)
    .filter((specifier) => specifier.startsWith('.'))
    .map((specifier) => resolve(dirname(file), specifier.replace(/\.js$/, '.ts')));
}

function importGraph(): Graph {
  const files = SOURCE_DIRS.flatMap((dir) => sourceFiles(join(REPO_ROOT, dir)));
  return new Map(files.map((file) => [file, relativeImports(file)]));
}

/** Every import circle, each once, as the files along it: found by a depth-first walk's back edges. */
export function findCycles(graph: Graph): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const onPath = new Set<string>();
  const visit = (file: string): void => {
    path.push(file);
    onPath.add(file);
    for (const next of graph.get(file) ?? []) {
      if (onPath.has(next)) cycles.push([...path.slice(path.indexOf(next)), next]);
      else if (!done.has(next)) visit(next);
    }
    path.pop();
    onPath.delete(file);
    done.add(file);
  };
  for (const file of graph.keys()) if (!done.has(file)) visit(file);
  return cycles;
}

test('the cycle finder finds a circle of three and a file importing itself', () => {
  const graph: Graph = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a', 'd']],
    ['d', []],
    ['e', ['e']],
  ]);
  assert.deepEqual(findCycles(graph), [['a', 'b', 'c', 'a'], ['e', 'e']]);
  assert.deepEqual(findCycles(new Map([['a', ['b']], ['b', []]])), []);
});

test('no import circle in the sources', () => {
  const graph = importGraph();
  assert.ok(graph.size > 50, `expected the whole source tree, found ${graph.size} files`);
  const cycles = findCycles(graph).map((cycle) => cycle.map((file) => relative(REPO_ROOT, file)).join(' → '));
  assert.deepEqual(cycles, [], `import circles:\n${cycles.join('\n')}`);
});

test('server/status/ imports nothing of server/ but itself', () => {
  const status = join(REPO_ROOT, 'server/status');
  const server = join(REPO_ROOT, 'server');
  const strays = [...importGraph()]
    .filter(([file]) => file.startsWith(status + '/'))
    .flatMap(([file, imports]) => imports.filter((target) => target.startsWith(server + '/') && !target.startsWith(status + '/')).map((target) => `${relative(REPO_ROOT, file)} → ${relative(REPO_ROOT, target)}`));
  assert.deepEqual(strays, []);
});
