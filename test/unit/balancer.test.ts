import { describe, expect, it } from 'vitest';
import {
  type PlacementView,
  type PoolView,
  pick,
  type ThreadView,
} from '../../src/pool/balancer.js';

const thread = (id: number, currentUsage = 0): ThreadView => ({
  id,
  currentUsage,
  terminating: false,
  destroyed: false,
});
const attempt = (extra: Partial<PlacementView> = {}): PlacementView => ({
  agent: 'a',
  short: false,
  behind: undefined,
  withdrawn: false,
  ...extra,
});
function view(
  extra: {
    balance?: PoolView['balance'];
    perThread?: number;
    warm?: number[];
    long?: Record<number, number>;
  } = {},
): PoolView {
  let turn = 0;
  const warm = new Set(extra.warm ?? []);
  return {
    balance: extra.balance ?? 'least-busy',
    perThread: extra.perThread ?? 2,
    warm: () => warm,
    long: (id) => extra.long?.[id] ?? 0,
    turn: () => turn++,
  };
}

describe('pick', () => {
  it('prefers an idle thread that has the agent loaded, else the first idle one', () => {
    const threads = [thread(1), thread(2), thread(3, 1)];
    expect(pick(attempt(), threads, view({ warm: [2] }))?.id).toBe(2);
    expect(pick(attempt(), threads, view({ warm: [3] }))?.id).toBe(1);
  });

  it('rotates among idle warm threads with round-robin', () => {
    const threads = [thread(1), thread(2), thread(3)];
    const pool = view({ balance: 'round-robin', warm: [1, 3] });
    expect([0, 1, 2, 3].map(() => pick(attempt(), threads, pool)?.id)).toEqual([1, 3, 1, 3]);
  });

  it('with every thread busy: a long attempt waits, a short one queues behind short ones only', () => {
    const threads = [thread(1, 1), thread(2, 1)];
    expect(pick(attempt(), threads, view())).toBeNull();
    expect(pick(attempt({ short: true }), threads, view({ long: { 1: 1 } }))?.id).toBe(2);
    expect(pick(attempt({ short: true }), threads, view({ long: { 1: 1, 2: 1 } }))).toBeNull();
  });

  it('puts an on-deck attempt on the thread it follows only while that thread holds just the one', () => {
    const threads = [thread(1, 1), thread(2, 1)];
    expect(pick(attempt({ behind: 2 }), threads, view({ long: { 2: 1 } }))?.id).toBe(2);
    expect(pick(attempt({ behind: 2 }), threads, view({ long: { 2: 2 } }))).toBeNull();
    expect(pick(attempt({ behind: 9 }), threads, view())).toBeNull();
  });

  it('gives a withdrawn attempt any thread with room, to be skipped there', () => {
    const threads = [thread(1, 2), thread(2, 1)];
    expect(pick(attempt({ withdrawn: true }), threads, view())?.id).toBe(2);
  });
});
