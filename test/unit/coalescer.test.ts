import { describe, expect, it } from 'vitest';
import { Coalescer, type PoolGroup } from '../../src/pool/coalescer.js';
import type { PoolSubmission } from '../../src/pool/submission.js';
import type { WorkerReply } from '../../src/shared/protocol.js';

// Only what the coalescer reads of a submission.
const sub = (taskId: string, agent = 'a', extra: { short?: boolean; runTokens?: object } = {}) =>
  ({
    agent,
    short: extra.short ?? true,
    withdrawn: false,
    request: { taskId, runTokens: extra.runTokens },
  }) as unknown as PoolSubmission;

const ok = (id: string) => ({ ok: true, output: id }) as unknown as WorkerReply;
const ids = (g: PoolGroup) => g.members.map((m) => m.request.taskId);

/** A coalescer over a sender that records each message and answers it as told. */
function harness(max: number, answer: (ids: string[]) => WorkerReply[] | Error = (t) => t.map(ok)) {
  const sent: string[][] = [];
  const reply = (taskIds: string[]) => {
    sent.push(taskIds);
    const a = answer(taskIds);
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  };
  const coalescer = new Coalescer(max, {
    one: (s) => reply([s.request.taskId]).then((r) => r[0] as WorkerReply),
    group: (g) => reply(ids(g)),
  });
  return { coalescer, sent };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('Coalescer', () => {
  it('sends what is posted in one turn as one message per agent, at most `max` each, in order', async () => {
    const { coalescer, sent } = harness(3);
    const replies = ['a1', 'b1', 'a2', 'a3', 'a4', 'b2'].map((id) =>
      coalescer.post(sub(id, id[0])),
    );
    // The first three of agent a went at once; the rest wait for the turn to end.
    expect(sent).toEqual([['a1', 'a2', 'a3']]);
    await turn();
    expect(sent).toEqual([['a1', 'a2', 'a3'], ['b1', 'b2'], ['a4']]);
    expect(await Promise.all(replies)).toEqual(['a1', 'b1', 'a2', 'a3', 'a4', 'b2'].map(ok));
  });

  it('sends an attempt posted alone as itself, after the current turn only', async () => {
    const { coalescer, sent } = harness(8);
    const reply = coalescer.post(sub('x'));
    expect(sent).toEqual([]);
    await Promise.resolve();
    expect(sent).toEqual([['x']]);
    expect(await reply).toEqual(ok('x'));
  });

  it('takes only short attempts without a run budget, of agents never seen from outside', async () => {
    const { coalescer } = harness(4, (t) =>
      t.map((id) => (id === 'c1' ? ok(id) : { notBegun: 'deferred' })),
    );
    expect(coalescer.takes(sub('s'))).toBe(true);
    expect(coalescer.takes(sub('l', 'a', { short: false }))).toBe(false);
    expect(coalescer.takes(sub('t', 'a', { runTokens: {} }))).toBe(false);
    // A group of agent c came back cut short (a member was seen): c is not grouped again.
    await Promise.all([coalescer.post(sub('c1', 'c')), coalescer.post(sub('c2', 'c'))]);
    expect(coalescer.takes(sub('c3', 'c'))).toBe(false);
    expect(coalescer.takes(sub('a9', 'a'))).toBe(true);
  });

  it("fails every member with the message's error (its thread died)", async () => {
    const died = new Error('thread died');
    const { coalescer } = harness(4, () => died);
    const replies = ['m1', 'm2'].map((id) => coalescer.post(sub(id)).catch((e: unknown) => e));
    expect(await Promise.all(replies)).toEqual([died, died]);
  });
});
