/**
 * A tunnel's recent OPEN outcomes, judged by whose fault a failure is (RELAY_SIDE_FAILURES):
 * a relay whose network cannot reach anything fails OPENs that another relay would serve.
 */
import { ReplyCode } from '../../protocol/frame.js';
import {
  OPEN_FAILURE_SHARE_UNHEALTHY,
  OPEN_FAILURES_UNHEALTHY,
  OPEN_HEALTH_SAMPLES,
  OPEN_HEALTH_WINDOW_MS,
  RELAY_SIDE_FAILURES,
} from './constants.js';

interface Outcome {
  at: number;
  relayFault: boolean;
}

export class OpenHealth {
  private readonly outcomes: Outcome[] = [];

  /** One OPEN's answer; a success and a target's refusal both count as the relay doing its job. */
  record(reply: ReplyCode, now = Date.now()): void {
    const relayFault = reply !== ReplyCode.Succeeded && RELAY_SIDE_FAILURES.has(reply);
    this.outcomes.push({ at: now, relayFault });
    if (this.outcomes.length > OPEN_HEALTH_SAMPLES) this.outcomes.shift();
  }

  /** True when enough recent OPENs failed at the relay's side. */
  failing(now = Date.now()): boolean {
    const recent = this.outcomes.filter((o) => now - o.at <= OPEN_HEALTH_WINDOW_MS);
    const failures = recent.filter((o) => o.relayFault).length;
    return failures >= OPEN_FAILURES_UNHEALTHY && failures >= recent.length * OPEN_FAILURE_SHARE_UNHEALTHY;
  }

  /** A fresh session starts with a clean record. */
  clear(): void {
    this.outcomes.length = 0;
  }
}
