/** Rules that let a test relay reach targets on this machine, which the safe default refuses. */
import { parseTargetRule, type TargetRule } from '../../server/policy/target-rule.js';

export const LOOPBACK_ALLOW_FLAGS = ['--allow', '127.0.0.0/8', '--allow', '::1/128'];

export function loopbackRules(): TargetRule[] {
  return [parseTargetRule('allow', '127.0.0.0/8'), parseTargetRule('allow', '::1/128')];
}
