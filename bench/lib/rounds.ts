import { type Summary, summarize } from './stats.js';

/**
 * Measures every contender once per round, the order reversed every other
 * round, so that contenders next to each other share the machine's state of
 * the moment and none is always first or last. Returns each contender's
 * measurements in round order.
 */
export async function alternatingRounds<C extends { name: string }>(
  contenders: readonly C[],
  rounds: number,
  measure: (contender: C) => Promise<number>,
): Promise<Map<string, number[]>> {
  const samples = new Map<string, number[]>(contenders.map((c) => [c.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const c of r % 2 ? [...contenders].reverse() : contenders)
      samples.get(c.name)?.push(await measure(c));
  }
  return samples;
}

/**
 * `a / b` within each round, then their median and range: a ratio of two
 * medians would pair a fast round of one with a slow round of the other.
 */
export function ratioPerRound(samples: Map<string, number[]>, a: string, b: string): Summary {
  const top = samples.get(a);
  const bottom = samples.get(b);
  if (!top || !bottom || top.length !== bottom.length || top.length === 0)
    throw new Error(`ratioPerRound: no paired rounds for "${a}" and "${b}"`);
  return summarize(top.map((x, r) => x / (bottom[r] as number)));
}
