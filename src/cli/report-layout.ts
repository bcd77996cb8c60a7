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

/** A lane of the timeline: one thread slot, and the threads that held it in turn. */
export interface Lane {
  label: string;
  /** Thread ids in the order they held the slot (`0` the main thread, `-1` unknown). */
  threads: number[];
  /** Where a later thread took the slot over: its id and its first attempt's start. */
  handovers: { thread: number; after: number; at: number }[];
}

/**
 * One lane per thread slot, not per thread id: a pool keeps `threads`
 * threads, and one that is replaced (it crashed, breached a limit, or was
 * ended idle) comes back with a new id. A thread takes over the lane of a
 * thread whose last attempt ended before its first began, the one that
 * ended last (most likely the thread it replaced), so a 2-thread run with
 * replacements draws 2 lanes, not one per id. The main thread (inline
 * runs) and attempts of no known thread get lanes of their own.
 */
export function threadLanes(
  attempts: readonly { threadId: number | null; startedAt: number; finishedAt: number }[],
): { lanes: Lane[]; laneOf: Map<number, number> } {
  const spans = new Map<number, { first: number; last: number }>();
  for (const a of attempts) {
    const id = a.threadId ?? -1;
    const span = spans.get(id);
    if (!span) spans.set(id, { first: a.startedAt, last: a.finishedAt });
    else {
      span.first = Math.min(span.first, a.startedAt);
      span.last = Math.max(span.last, a.finishedAt);
    }
  }
  const lanes: Lane[] = [];
  const ends: number[] = [];
  const laneOf = new Map<number, number>();
  const workers = [...spans.entries()]
    .filter(([id]) => id > 0)
    .sort((a, b) => a[1].first - b[1].first || a[0] - b[0]);
  for (const [id, span] of workers) {
    let lane = -1;
    ends.forEach((end, k) => {
      if (end <= span.first && (lane === -1 || end > (ends[lane] as number))) lane = k;
    });
    if (lane === -1) {
      lane = lanes.length;
      lanes.push({ label: '', threads: [], handovers: [] });
      ends.push(span.last);
    } else {
      const held = lanes[lane] as Lane;
      held.handovers.push({ thread: id, after: held.threads.at(-1) as number, at: span.first });
    }
    (lanes[lane] as Lane).threads.push(id);
    ends[lane] = span.last;
    laneOf.set(id, lane);
  }
  lanes.forEach((lane, k) => {
    lane.label =
      lanes.length === 1 && lane.threads.length === 1
        ? `thread ${lane.threads[0]}`
        : `slot ${k + 1}`;
  });
  for (const [id, label] of [
    [0, 'main'],
    [-1, 'unknown'],
  ] as const) {
    if (!spans.has(id)) continue;
    laneOf.set(id, lanes.length);
    lanes.push({ label, threads: [id], handovers: [] });
  }
  return { lanes, laneOf };
}
