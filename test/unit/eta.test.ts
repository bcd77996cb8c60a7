import { describe, expect, it } from 'vitest';
import { Eta } from '../../src/cli/eta.js';
import { compileDag } from '../../src/dag/validate.js';

describe('the live view’s ETA', () => {
  // a -> b -> c, and four independent tasks of another agent.
  const graph = compileDag({
    a: { agent: 'step' },
    b: { agent: 'step', depends_on: ['a'] },
    c: { agent: 'step', depends_on: ['b'] },
    w1: { agent: 'wide' },
    w2: { agent: 'wide' },
    w3: { agent: 'wide' },
    w4: { agent: 'wide' },
  });

  it('is unknown until a task has finished', () => {
    expect(new Eta(graph, 2).remainingMs(new Map())).toBeUndefined();
  });

  it('is the work left over the threads, from each agent’s observed mean', () => {
    const eta = new Eta(graph, 2);
    eta.finished('a', 100);
    eta.finished('w1', 300);
    // Left: b, c (100 each) and w2..w4 (300 each) = 1100 ms over 2 threads; chain b -> c = 200.
    expect(eta.remainingMs(new Map())).toBe(550);
    // A running task counts what it has left.
    expect(eta.remainingMs(new Map([['w2', 200]]))).toBe(450);
  });

  it('is never less than the longest chain of unfinished tasks', () => {
    const eta = new Eta(graph, 16);
    eta.finished('w1', 10);
    eta.finished('a', 1000);
    // b -> c: 2000 ms whatever the threads (the work over 16 threads is 2030 / 16).
    expect(eta.remainingMs(new Map())).toBe(2000);
  });

  it('scales by cost hints', () => {
    const hinted = compileDag({ x: { agent: 'p', cost: 1 }, y: { agent: 'p', cost: 5 } });
    const eta = new Eta(hinted, 1);
    eta.finished('x', 20);
    expect(eta.remainingMs(new Map())).toBe(100);
  });
});
