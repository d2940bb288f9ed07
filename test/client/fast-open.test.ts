/** DestinationMemory alone, with an injected clock: what fast open remembers, for how long, and what it drops first. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DestinationMemory, REMEMBER_MS } from '../../client/fast-open.js';

const BOUND = { host: '198.51.100.7', port: 40001 };

describe('DestinationMemory', () => {
  it('recalls the last bound address of a destination as the application named it, names case-free', () => {
    const memory = new DestinationMemory();
    assert.equal(memory.recall({ host: 'example.com', port: 443 }), null, 'never seen');
    memory.remember({ host: 'Example.COM', port: 443 }, BOUND);
    assert.deepEqual(memory.recall({ host: 'example.com', port: 443 }), BOUND);
    assert.equal(memory.recall({ host: 'example.com', port: 80 }), null, 'another port is another destination');
    assert.equal(memory.recall({ host: '93.184.216.34', port: 443 }), null, 'an address is not the name it may resolve to');
    memory.remember({ host: 'example.com', port: 443 }, { host: '198.51.100.8', port: 40002 });
    assert.deepEqual(memory.recall({ host: 'example.com', port: 443 }), { host: '198.51.100.8', port: 40002 }, 'the last one seen');
  });

  it(`forgets a destination ${REMEMBER_MS / 60_000} minutes after its last successful dial, and on forget()`, () => {
    const clock = { now: 0 };
    const memory = new DestinationMemory(16, () => clock.now);
    memory.remember({ host: 'a.example', port: 1 }, BOUND);
    clock.now += REMEMBER_MS;
    assert.deepEqual(memory.recall({ host: 'a.example', port: 1 }), BOUND, 'exactly at the limit: still remembered');
    clock.now += 1;
    assert.equal(memory.recall({ host: 'a.example', port: 1 }), null, 'past it: forgotten');
    assert.equal(memory.size, 0, 'and dropped');
    memory.remember({ host: 'b.example', port: 2 }, BOUND);
    memory.forget({ host: 'b.example', port: 2 });
    assert.equal(memory.recall({ host: 'b.example', port: 2 }), null);
  });

  it('holds at most its capacity, dropping the least recently used first', () => {
    const memory = new DestinationMemory(3);
    for (const port of [1, 2, 3]) memory.remember({ host: 'h', port }, BOUND);
    assert.ok(memory.recall({ host: 'h', port: 1 }), 'port 1 used: now the most recent');
    memory.remember({ host: 'h', port: 4 }, BOUND);
    assert.equal(memory.size, 3);
    assert.equal(memory.recall({ host: 'h', port: 2 }), null, 'the least recently used went first');
    for (const port of [1, 3, 4]) assert.ok(memory.recall({ host: 'h', port }), `port ${port} kept`);
  });
});
