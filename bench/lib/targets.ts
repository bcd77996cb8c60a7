import type { DispatchRow } from '../scenarios/dispatch.js';
import type { MakespanRow } from '../scenarios/makespan.js';
import type { ScaleRow } from '../scenarios/scale.js';
import {
  BATCHES,
  batchName,
  DEFAULT_FANOUT,
  DEFAULT_WINDOW,
  POOLIFIER,
} from './dispatch-contenders.js';
import type { SpeedupRow } from './speedup-row.js';
import { cell, summarize, table } from './stats.js';

/** One target of the issue, checked against this run's own numbers. */
export interface Target {
  target: string;
  /** What was measured, as printed. */
  measured: string;
  /** The figure compared with the threshold. */
  value: number;
  met: boolean;
}

/**
 * Planning counts as linear while µs per task at the largest size stays
 * within this factor of the reference size's: a quarter more per task over
 * a 10–100× larger DAG. Any growth past it is the planner or the GC doing
 * more per task as the DAG grows, which is what the target rules out.
 */
export const LINEAR_FACTOR = 1.25;
const MAKESPAN_SCHEDULER = 'agentpool (cost hints)';

export function targets(results: {
  cores: number;
  makespan: MakespanRow[];
  dispatch: DispatchRow[];
  speedup: SpeedupRow[];
  scale: ScaleRow[];
}): Target[] {
  const out: Target[] = [];
  const ours = results.makespan.filter((r) => r.scheduler === MAKESPAN_SCHEDULER);
  const worst = ours.reduce((a, b) => (b.median > a.median ? b : a));
  out.push({
    target: `makespan / lower bound ≤ 1.05 at every thread count (${MAKESPAN_SCHEDULER}, median per thread count)`,
    measured: `${worst.median.toFixed(3)} (worst, at ${worst.threads} threads; ${ours.map((r) => r.median.toFixed(3)).join(' / ')})`,
    value: worst.median,
    met: worst.median <= 1.05,
  });

  const row = (name: string) => results.dispatch.find((r) => r.name === name) as DispatchRow;
  const fanOut = row(DEFAULT_FANOUT);
  for (const [baseline, ratio] of [
    ['raw piscina, 1 in flight per thread (its default)', fanOut.vsPiscina],
    [`raw piscina, ${DEFAULT_WINDOW} in flight per thread (like for like)`, fanOut.vsPiscinaWindow],
  ] as const) {
    out.push({
      target: `dispatch ≥ 0.9× ${baseline}, single tasks (${DEFAULT_FANOUT}; per-round ratio)`,
      measured: cell(ratio),
      value: ratio.median,
      met: ratio.median >= 0.9,
    });
  }

  // Per round: the batch row's rate over poolifier's in the same round.
  const poolifier = row(POOLIFIER).rate.samples;
  const vsPoolifier = BATCHES.map((batch) => ({
    batch,
    ratio: summarize(
      row(batchName(batch)).rate.samples.map((x, r) => x / (poolifier[r] as number)),
    ),
  }));
  const best = vsPoolifier.reduce((a, b) => (b.ratio.median > a.ratio.median ? b : a));
  out.push({
    target: 'a batched fan-out beats the fastest pool (poolifier)',
    measured: `${cell(best.ratio)}× poolifier (batch ${best.batch}; per-round ratio)`,
    value: best.ratio.median,
    met: best.ratio.median > 1,
  });

  const kernel = results.speedup.find(
    (r) => r.workload.startsWith('prime') && r.threads === results.cores && r.vsOneThread,
  );
  if (kernel?.vsOneThread)
    out.push({
      target: `speedup on CPU-bound work ≥ 0.9 × cores (${results.cores}; prime kernel vs 1 thread)`,
      measured: cell(kernel.vsOneThread),
      value: kernel.vsOneThread.median,
      met: kernel.vsOneThread.median >= 0.9 * results.cores,
    });

  const at100k = results.scale.find((r) => r.tasks === 100_000);
  if (at100k)
    out.push({
      target: 'planning < 5 µs per task at 100k tasks (validate + plan)',
      measured: `${cell(at100k.plan)} µs`,
      value: at100k.plan.median,
      met: at100k.plan.median < 5,
    });

  const largest = results.scale.at(-1);
  const reference =
    results.scale.find((r) => r.tasks === 10_000 && r.tasks < (largest?.tasks ?? 0)) ??
    results.scale[0];
  if (largest && reference && largest !== reference) {
    const growth = largest.plan.median / reference.plan.median;
    out.push({
      target: `planning linear: µs per task at ${largest.tasks.toLocaleString('en-US')} tasks ≤ ${LINEAR_FACTOR}× that at ${reference.tasks.toLocaleString('en-US')}`,
      measured: `${growth.toFixed(2)}× (${largest.plan.median.toFixed(2)} vs ${reference.plan.median.toFixed(2)} µs)`,
      value: growth,
      met: growth <= LINEAR_FACTOR,
    });
  }
  return out;
}

export function targetsMarkdown(list: Target[]): string {
  return `### Targets\n\n${table(
    ['target', 'measured', 'met'],
    list.map((t) => [t.target, t.measured, t.met ? 'yes' : 'no']),
    ['l', 'r', 'l'],
  )}`;
}
