/**
 * Geometry of the timeline report that is not drawing: where its ticks go
 * and which row each queue wait takes.
 */

/**
 * Round tick values (1, 2 or 5 times a power of ten) from 0 up to `span`,
 * at most `most` of them. Round steps read at a glance, and the last tick
 * falls at or before the end of the axis, so its label is never pushed past
 * the chart's edge.
 */
export function niceTicks(span: number, most = 8): number[] {
  if (!(span > 0)) return [0];
  const rough = span / Math.max(1, most - 1);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = ([1, 2, 5, 10].find((m) => m * power >= rough) ?? 10) * power;
  const ticks: number[] = [];
  for (let t = 0; t <= span + step * 1e-9; t += step) ticks.push(Math.round(t * 1e6) / 1e6);
  return ticks;
}

/** One queue wait in pixels: from the task becoming ready to its attempt starting. */
export interface WaitSpan {
  x1: number;
  x2: number;
  /** Where its label goes: from `x1` rightwards, or, with no room before the edge, ending at `x1`. */
  labelAt: 'right' | 'left';
  /** What the wait and its label cover together. */
  lo: number;
  hi: number;
}

/** Lays out one wait and its label within `[left, right]`. */
export function waitSpan(x1: number, x2: number, label: string, right: number): WaitSpan {
  const width = labelWidth(label);
  if (x1 + width <= right)
    return { x1, x2, labelAt: 'right', lo: x1, hi: Math.max(x2, x1 + width) };
  return { x1, x2, labelAt: 'left', lo: x1 - width, hi: x2 };
}

/**
 * Rows for queue waits, so no two overlap and each keeps room for its
 * task's name: first fit in order of start. Waits that fit no row within
 * `maxRows` go where the row ends soonest (they may then overlap: a run
 * with hundreds of tasks waiting at once cannot show each on its own line,
 * but each still has its tooltip).
 */
export function packWaits(waits: readonly WaitSpan[], maxRows: number): number[] {
  const order = waits.map((_, i) => i).sort((a, b) => (waits[a]?.lo ?? 0) - (waits[b]?.lo ?? 0));
  const ends: number[] = [];
  const rows = new Array<number>(waits.length).fill(0);
  const gap = 4;
  for (const i of order) {
    const wait = waits[i] as WaitSpan;
    let row = ends.findIndex((end) => end + gap <= wait.lo);
    if (row === -1 && ends.length < maxRows) row = ends.length;
    if (row === -1) row = ends.indexOf(Math.min(...ends));
    ends[row] = Math.max(ends[row] ?? 0, wait.hi);
    rows[i] = row;
  }
  return rows;
}

/** Rough width of a label in the report's 11 px sans-serif, for layout (no text metrics offline). */
export function labelWidth(text: string): number {
  return text.length * 6.4 + 8;
}
