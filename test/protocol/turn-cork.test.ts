/** TurnCork: the writes of one event-loop turn are corked together and released in its check phase. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as nextCheckPhase } from 'node:timers/promises';
import { TurnCork, type Corkable } from '../../protocol/turn-cork.js';

function countingTarget(): Corkable & { corks: number; uncorks: number } {
  return {
    corks: 0,
    uncorks: 0,
    cork() {
      this.corks++;
    },
    uncork() {
      this.uncorks++;
    },
  };
}

describe('TurnCork', () => {
  it('corks once for many writes in a turn and uncorks once, after that turn', async () => {
    const target = countingTarget();
    const cork = new TurnCork(target);
    for (let i = 0; i < 5; i++) cork.hold();
    assert.deepEqual([target.corks, target.uncorks], [1, 0]);
    await nextCheckPhase();
    assert.deepEqual([target.corks, target.uncorks], [1, 1]);
  });

  it('corks again in the next turn', async () => {
    const target = countingTarget();
    const cork = new TurnCork(target);
    cork.hold();
    await nextCheckPhase();
    cork.hold();
    cork.hold();
    await nextCheckPhase();
    assert.deepEqual([target.corks, target.uncorks], [2, 2]);
  });
});
