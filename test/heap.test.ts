import { describe, expect, it } from 'vitest';
import { RankHeap } from '../src/planner/heap.js';
import { backoffDelay, retryPolicySchema } from '../src/retry.js';

describe('RankHeap', () => {
  it('pops by rank, highest first, ties in index order', () => {
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const rank = Float64Array.from({ length: 500 }, () => Math.floor(random() * 20));
    const heap = new RankHeap(rank);
    const order = Array.from({ length: 500 }, (_, i) => i).sort(() => random() - 0.5);
    for (const i of order) heap.push(i);
    const popped: number[] = [];
    for (let i = heap.pop(); i !== undefined; i = heap.pop()) popped.push(i);
    const expected = [...order].sort((a, b) => (rank[b] as number) - (rank[a] as number) || a - b);
    expect(popped).toEqual(expected);
  });
});

describe('backoffDelay', () => {
  it('grows by the factor, is capped, and jitters between half and all of it', () => {
    const policy = retryPolicySchema.parse({
      backoffMs: 100,
      factor: 3,
      maxBackoffMs: 500,
      jitter: false,
    });
    expect([1, 2, 3, 4].map((n) => backoffDelay(policy, n))).toEqual([100, 300, 500, 500]);
    const jittered = { ...policy, jitter: true };
    expect(backoffDelay(jittered, 2, () => 0)).toBe(150);
    expect(backoffDelay(jittered, 2, () => 0.999999)).toBeCloseTo(300, 3);
  });
});
