import type { DispatchRow } from '../scenarios/dispatch.js';
import type { MainCpuRow } from '../scenarios/main-cpu.js';
import { CPU_FANOUT } from '../scenarios/main-cpu.js';
import type { MakespanRow } from '../scenarios/makespan.js';
import type { RoundTripRow } from '../scenarios/round-trip.js';
import type { ScaleRow } from '../scenarios/scale.js';
import { IDEAL, type ShortMakespanRow } from '../scenarios/short-makespan.js';
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
 * within this factor of the reference size's (issue 10: 1M vs 10k). Any
 * growth past it is the planner or the GC doing more per task as the DAG
 * grows, which is what the target rules out.
 */
export const LINEAR_FACTOR = 1.2;
const MAKESPAN_SCHEDULER = 'agentpool (cost hints)';

/** Each section is optional: `--contended` runs only the ratio sections. */
export function targets(results: {
  cores: number;
  makespan?: MakespanRow[];
  shortMakespan?: ShortMakespanRow[];
  dispatch?: DispatchRow[];
  roundTrip?: RoundTripRow[];
  mainCpu?: MainCpuRow[];
  speedup?: SpeedupRow[];
  scale?: ScaleRow[];
}): Target[] {
  const out: Target[] = [];
  const ours = (results.makespan ?? []).filter((r) => r.scheduler === MAKESPAN_SCHEDULER);
  if (ours.length > 0) {
    const worst = ours.reduce((a, b) => (b.median > a.median ? b : a));
    out.push({
      target: `makespan / lower bound ≤ 1.05 at every thread count (${MAKESPAN_SCHEDULER}, median per thread count)`,
      measured: `${worst.median.toFixed(3)} (worst, at ${worst.threads} threads; ${ours.map((r) => r.median.toFixed(3)).join(' / ')})`,
      value: worst.median,
      met: worst.median <= 1.05,
    });
  }
  const short = (results.shortMakespan ?? []).filter((r) => r.scheduler === MAKESPAN_SCHEDULER);
  if (short.length > 0) {
    const worst = short.reduce((a, b) => (b.vsIdeal.median > a.vsIdeal.median ? b : a));
    out.push({
      target: `short-task DAGs: makespan ≤ 1.03× the ${IDEAL} at every thread count (${MAKESPAN_SCHEDULER}; per-round ratio)`,
      measured: `${worst.vsIdeal.median.toFixed(3)} (worst, at ${worst.threads} threads; ${short.map((r) => `${r.threads}: ${r.vsIdeal.median.toFixed(3)}`).join(', ')})`,
      value: worst.vsIdeal.median,
      met: worst.vsIdeal.median <= 1.03,
    });
  }
  for (const row of (results.roundTrip ?? []).filter((r) => r.name.startsWith('agentpool')))
    out.push({
      target: `one task at a time: ${row.name} ≤ 1.25× piscina.run (per-round ratio)`,
      measured: cell(row.vsPiscina),
      value: row.vsPiscina.median,
      met: row.vsPiscina.median <= 1.25,
    });
  const cpu = results.mainCpu?.find((r) => r.name === CPU_FANOUT);
  if (cpu)
    out.push({
      target: `main-thread CPU ≤ 10 µs per dispatched no-op task (${CPU_FANOUT})`,
      measured: `${cell(cpu.mainUs, 1)} µs`,
      value: cpu.mainUs.median,
      met: cpu.mainUs.median <= 10,
    });
  if (results.dispatch) out.push(...dispatchTargets(results.dispatch));
  out.push(...otherTargets(results));
  return out;
}

function dispatchTargets(dispatch: DispatchRow[]): Target[] {
  const out: Target[] = [];

  const row = (name: string) => dispatch.find((r) => r.name === name) as DispatchRow;
  const fanOut = row(DEFAULT_FANOUT);
  for (const [baseline, ratio] of [
    ['raw piscina, 1 in flight per thread (its default)', fanOut.vsPiscina],
    [`raw piscina, ${DEFAULT_WINDOW} in flight per thread (like for like)`, fanOut.vsPiscinaWindow],
  ] as const) {
    out.push({
      target: `dispatch ≥ 1.0× ${baseline}, single tasks (${DEFAULT_FANOUT}; per-round ratio)`,
      measured: cell(ratio),
      value: ratio.median,
      met: ratio.median >= 1,
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
    target: 'a batched fan-out ≥ 2× the fastest pool (poolifier)',
    measured: `${cell(best.ratio)}× poolifier (batch ${best.batch}; per-round ratio)`,
    value: best.ratio.median,
    met: best.ratio.median >= 2,
  });
  return out;
}

function otherTargets(results: Parameters<typeof targets>[0]): Target[] {
  const out: Target[] = [];

  const kernel = results.speedup?.find(
    (r) => r.workload.startsWith('prime') && r.threads === results.cores && r.vsOneThread,
  );
  if (kernel?.vsOneThread)
    out.push({
      target: `speedup on CPU-bound work ≥ 0.9 × cores (${results.cores}; prime kernel vs 1 thread)`,
      measured: cell(kernel.vsOneThread),
      value: kernel.vsOneThread.median,
      met: kernel.vsOneThread.median >= 0.9 * results.cores,
    });

  const scale = results.scale ?? [];
  const at100k = scale.find((r) => r.tasks === 100_000);
  if (at100k)
    out.push({
      target: 'planning < 5 µs per task at 100k tasks (validate + plan)',
      measured: `${cell(at100k.plan)} µs`,
      value: at100k.plan.median,
      met: at100k.plan.median < 5,
    });

  const largest = scale.at(-1);
  if (largest && largest.tasks >= 1_000_000)
    out.push({
      target: `planning ≤ 3 µs per task at ${largest.tasks.toLocaleString('en-US')} tasks (validate + plan)`,
      measured: `${cell(largest.plan)} µs`,
      value: largest.plan.median,
      met: largest.plan.median <= 3,
    });
  const reference =
    scale.find((r) => r.tasks === 10_000 && r.tasks < (largest?.tasks ?? 0)) ?? scale[0];
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
