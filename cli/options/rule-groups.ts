/**
 * Rule groups in a config file: options whose values form one ordered list across names
 * (--allow/--deny, --direct/--block), where first match wins. The file gives them as one list
 * under the group's key, each entry naming its action: `rules: [{allow: 10.0.0.0/8}, {deny: "*"}]`.
 * A list under one action's own key (`allow: [A, B]`) is fine alone; with both actions the
 * order between them would be a guess, so that is refused.
 */
import { UsageError } from '../args.js';
import type { ConfigDocument } from './config-file.js';
import { describe } from './option-values.js';

/** One rule in order: the action (the option's name), its target, where it came from. */
export interface RuleEntry {
  action: string;
  value: string;
  source: string;
}

export function fileRules(group: string, actions: readonly string[], doc: ConfigDocument, file: string | null): RuleEntry[] {
  const byAction = actions.filter((action) => doc.has(action));
  if (doc.has(group) && byAction.length > 0) throw new UsageError(`${file}: ${byAction[0]}: give every rule in the one ordered "${group}:" list, not also under "${byAction[0]}:"`);
  if (byAction.length > 1) {
    throw new UsageError(`${file}: ${byAction[1]}: with both ${byAction.join(' and ')}, their order matters: give them as one "${group}:" list, e.g. ${group}: [{${actions[0]}: TARGET}, {${actions[1]}: TARGET}]`);
  }
  if (byAction.length === 1) return actionList(byAction[0], doc.get(byAction[0]), `${file}: ${byAction[0]}`);
  if (!doc.has(group)) return [];
  return groupList(group, actions, doc.get(group), `${file}: ${group}`);
}

function actionList(action: string, raw: unknown, source: string): RuleEntry[] {
  const items = Array.isArray(raw) ? raw : [raw];
  return items.map((item, index) => {
    if (typeof item !== 'string') throw new UsageError(`${source}[${index}]: expected a target such as "10.0.0.0/8:443", got ${describe(item)}`);
    return { action, value: item, source: `${source}[${index}]` };
  });
}

function groupList(group: string, actions: readonly string[], raw: unknown, source: string): RuleEntry[] {
  const example = `{${actions[0]}: TARGET}`;
  if (!Array.isArray(raw)) throw new UsageError(`${source}: expected a list of ${actions.map((action) => `{${action}: TARGET}`).join(' or ')}, got ${describe(raw)}`);
  return raw.map((item: unknown, index) => {
    const at = `${source}[${index}]`;
    const keys = typeof item === 'object' && item !== null && !Array.isArray(item) ? Object.keys(item) : [];
    if (keys.length !== 1 || !actions.includes(keys[0])) throw new UsageError(`${at}: expected one of ${actions.map((action) => `{${action}: TARGET}`).join(', ')}, e.g. ${group}: [${example}]`);
    const value = (item as Record<string, unknown>)[keys[0]];
    if (typeof value !== 'string') throw new UsageError(`${at}.${keys[0]}: expected a target such as "10.0.0.0/8:443", got ${describe(value)}`);
    return { action: keys[0], value, source: `${at}.${keys[0]}` };
  });
}
