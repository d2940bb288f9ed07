/**
 * --rules FILE: one rule a line, `ROUTE TARGET` with ROUTE one of relay, direct, block and
 * TARGET as for --direct/--block, or `*` for every destination (`relay *` ends a list that
 * should not fall through to a later default). `#` starts a comment; blank lines are skipped.
 *
 *     # sites at home
 *     direct *.example.cn
 *     direct example.cn
 *     block  198.51.100.0/24
 *     relay  *
 */
import { readFileSync } from 'node:fs';
import { parseTarget, RuleSyntaxError } from '../../common/target-syntax.js';
import { isRoute, ROUTES } from './route.js';
import type { RoutingRule } from './rules.js';

const COMMENT = '#';

/** A rules file that cannot be used; the message names the file and, when it is a line's fault, the line. */
export class RulesFileError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | null,
    reason: string,
  ) {
    super(`${line === null ? file : `${file}:${line}`}: ${reason}`);
    this.name = 'RulesFileError';
  }
}

export function loadRulesFile(file: string): RoutingRule[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RulesFileError(file, null, `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return parseRules(text, file);
}

/** The rules of `text` in file order; `file` names them in logs and errors. */
export function parseRules(text: string, file: string): RoutingRule[] {
  const rules: RoutingRule[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const rule = parseLine(lines[index], file, index + 1);
    if (rule) rules.push(rule);
  }
  return rules;
}

function parseLine(raw: string, file: string, line: number): RoutingRule | null {
  const comment = raw.indexOf(COMMENT);
  const content = (comment === -1 ? raw : raw.slice(0, comment)).trim();
  if (content === '') return null;
  const words = content.split(/\s+/);
  if (words.length !== 2) throw new RulesFileError(file, line, `expected "ROUTE TARGET" (ROUTE: ${ROUTES.join(', ')}), got "${content}"`);
  const [route, text] = words;
  if (!isRoute(route)) throw new RulesFileError(file, line, `"${route}" is not one of ${ROUTES.join(', ')}`);
  try {
    return { route, target: parseTarget(text, { allowAny: true }), origin: `${file}:${line}: ${route} ${text}` };
  } catch (err) {
    if (err instanceof RuleSyntaxError) throw new RulesFileError(file, line, err.message);
    throw err;
  }
}
