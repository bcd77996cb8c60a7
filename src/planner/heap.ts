/** Whether task `a` goes before task `b`: higher rank, ties to the lower index (the DAG's own order). */
export function outranks(rank: Float64Array, a: number, b: number): boolean {
  const ra = rank[a] as number;
  const rb = rank[b] as number;
  return ra > rb || (ra === rb && a < b);
}

/**
 * A binary max-heap of task indices keyed by a shared rank array; ties go to
 * the lower index (the DAG's own order), so runs are reproducible.
 */
export class RankHeap {
  readonly #rank: Float64Array;
  #items: number[] = [];

  constructor(rank: Float64Array) {
    this.#rank = rank;
  }

  get size(): number {
    return this.#items.length;
  }

  #before(a: number, b: number): boolean {
    return outranks(this.#rank, a, b);
  }

  push(task: number): void {
    const items = this.#items;
    let i = items.push(task) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent] as number;
      if (!this.#before(task, p)) break;
      items[i] = p;
      i = parent;
    }
    items[i] = task;
  }

  /** The highest-ranked task, left in place; undefined when empty. */
  peek(): number | undefined {
    return this.#items[0];
  }

  /** Removes and returns the highest-ranked task, or undefined when empty. */
  pop(): number | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (top === undefined || last === undefined || items.length === 0) return top;
    const n = items.length;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      let child = left;
      if (right < n && this.#before(items[right] as number, items[left] as number)) child = right;
      if (!this.#before(items[child] as number, last)) break;
      items[i] = items[child] as number;
      i = child;
    }
    items[i] = last;
    return top;
  }

  /** Empties the heap, returning what it held (in no particular order). */
  drain(): number[] {
    const items = this.#items;
    this.#items = [];
    return items;
  }
}
