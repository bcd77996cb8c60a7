import type { RunResult } from '../results.js';
import type { RunAnalysis } from './analysis.js';
import type { AttemptRecord } from './recorder.js';
import {
  labelWidth,
  niceTicks,
  packWaits,
  threadLanes,
  type WaitSpan,
  waitSpan,
} from './report-layout.js';

/** Bar colour of each outcome; `retry` is an attempt that failed and went again. */
export const STATUS_COLORS: Record<AttemptRecord['status'], string> = {
  done: '#2e9d5b',
  failed: '#d64545',
  retry: '#e89a2c',
  skipped: '#9aa3ad',
  cancelled: '#7b8794',
};

/** Narrowest bar drawn, in px: a 1 ms task in a minute-long run must still be seen and hovered. */
export const MIN_BAR_PX = 5;
const WIDTH = 1100;
const LEFT = 90;
const RIGHT = 16;
const TOP = 26;
const LANE = 28;
const WAIT_ROW = 14;
const MAX_WAIT_ROWS = 12;

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function ms(value: number): string {
  return value >= 10_000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;
}

function laneName(lane: number): string {
  return lane === -1 ? 'unknown' : lane === 0 ? 'main' : `thread ${lane}`;
}

/**
 * The run's Gantt chart as inline SVG, from its first attempt's start (the
 * start-up before it is in the summary): a lane per thread slot (a thread
 * that replaced another continues its lane, marked where it took over;
 * see `threadLanes`) with a bar per attempt, labelled with its task's id
 * where it is wide enough (coloured by outcome, the critical path outlined, at least
 * `MIN_BAR_PX` wide), and under the lanes one row per waiting task at a
 * time: a hatched bar from when it was ready to when its attempt started,
 * labelled with its id, so a wait can be told from another's. Bars and
 * waits carry `data-task` and `data-details` for the page's tooltip.
 */
export function timelineSvg(
  title: string,
  run: RunResult,
  attempts: readonly AttemptRecord[],
  analysis: RunAnalysis,
): string {
  const { lanes, laneOf } = threadLanes(attempts);
  const laneIndex = (a: AttemptRecord) => laneOf.get(a.threadId ?? -1) ?? 0;
  // The axis starts with the first attempt: the start-up before it (threads booting, modules
  // loading) is in the summary, and drawn it would squeeze the run itself into a corner.
  // Loops, not Math.min(...spread): a run may have more attempts than a call has arguments.
  let origin = attempts.length === 0 ? run.startedAt : Number.POSITIVE_INFINITY;
  for (const a of attempts) origin = Math.min(origin, a.startedAt);
  let span = 1;
  for (const a of attempts) span = Math.max(span, a.finishedAt - origin);
  const x = (t: number) => LEFT + ((t - origin) / span) * (WIDTH - LEFT - RIGHT);
  const critical = new Set(analysis.criticalPath);
  const lanesBottom = TOP + lanes.length * LANE;

  // A wait counts from when a thread could have run it at the earliest: ready, and start-up over.
  const readyAt = (a: AttemptRecord) => Math.max(a.readyAt, origin);
  // Waits worth drawing: longer than a pixel, and than a blip of scheduling.
  const minWait = Math.max(1, span / 1000);
  const waiting = attempts.filter((a) => a.startedAt - readyAt(a) >= minWait);
  const waitSpans = waiting.map((a) => waitSpan(x(readyAt(a)), x(a.startedAt), a.id, WIDTH - 4));
  const waitRows = packWaits(waitSpans, MAX_WAIT_ROWS);
  const rowCount = waiting.length === 0 ? 0 : Math.max(...waitRows) + 1;
  const waitsTop = lanesBottom + 10;
  const height = (rowCount > 0 ? waitsTop + rowCount * WAIT_ROW : lanesBottom) + 8;

  const ticks = niceTicks(span)
    .map((t) => {
      const at = x(origin + t);
      // One unit along the whole axis (not "8000 ms" next to "10.0 s").
      const label = span >= 10_000 ? `${Number((t / 1000).toFixed(1))} s` : `${Math.round(t)} ms`;
      // Keep every label inside the chart: the first starts at its tick, one near the edge ends there.
      const anchor = t === 0 ? 'start' : at + labelWidth(label) / 2 > WIDTH - 2 ? 'end' : 'middle';
      return `<line class="grid" x1="${at.toFixed(1)}" x2="${at.toFixed(1)}" y1="${TOP - 6}" y2="${height - 4}"/><text class="tick" text-anchor="${anchor}" x="${at.toFixed(1)}" y="14">${label}</text>`;
    })
    .join('');
  // Drawn over the bars: a takeover falls where the new thread's first bar begins.
  const handoverMarks: string[] = [];
  const laneRows = lanes
    .map((lane, row) => {
      const y = TOP + row * LANE;
      const held =
        lane.threads.length > 1
          ? `threads ${lane.threads.join(', ')} in turn`
          : laneName(lane.threads[0] ?? -1);
      // Where a new thread took the slot over: a dashed line, its details on hover.
      const handovers = lane.handovers
        .map(({ thread, after, at }) => {
          const hx = x(at).toFixed(1);
          const details = `thread ${thread} takes over from thread ${after} at ${ms(at - origin)}`;
          return `<g class="handover" data-task="" data-details="${escapeHtml(details)}"><line x1="${hx}" x2="${hx}" y1="${y + 1}" y2="${y + LANE - 3}"/><text x="${hx}" y="${y + 3}" text-anchor="middle">${thread}</text></g>`;
        })
        .join('');
      handoverMarks.push(handovers);
      return `<text class="lane" x="8" y="${y + 18}"><title>${escapeHtml(held)}</title>${lane.label}</text><line class="grid" x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y + LANE - 2}" y2="${y + LANE - 2}"/>`;
    })
    .join('');

  const waitMarks = waiting
    .map((a, k) => {
      const { x1, x2, labelAt } = waitSpans[k] as WaitSpan;
      const y = waitsTop + (waitRows[k] as number) * WAIT_ROW;
      const thread = laneName(a.threadId ?? -1);
      const details = `${a.id} (${a.agent}), attempt ${a.attempt}\nwaited ${ms(a.startedAt - readyAt(a))} for a thread\nready at ${ms(readyAt(a) - origin)}, started at ${ms(a.startedAt - origin)} on ${thread}`;
      const id = escapeHtml(a.id);
      return `<g class="wait" data-task="${id}" data-details="${escapeHtml(details)}"><rect x="${x1.toFixed(1)}" y="${y}" width="${Math.max(1, x2 - x1).toFixed(1)}" height="10" rx="2"/><text x="${(labelAt === 'right' ? x1 + 3 : x1 - 3).toFixed(1)}" y="${y + 8.5}"${labelAt === 'left' ? ' text-anchor="end"' : ''}>${id}</text></g>`;
    })
    .join('');
  const waitLabel =
    rowCount > 0 ? `<text class="lane" x="8" y="${waitsTop + 9}">queue wait</text>` : '';

  const labels: string[] = [];
  // Longest first, so a short bar that had to be widened is drawn over its neighbour, not under.
  const bars = [...attempts]
    .sort((a, b) => b.finishedAt - b.startedAt - (a.finishedAt - a.startedAt))
    .map((a) => {
      const y = TOP + laneIndex(a) * LANE + 4;
      const start = x(a.startedAt);
      const wait = Math.max(0, a.startedAt - readyAt(a));
      const details = [
        `${a.id} (${a.agent})`,
        `attempt ${a.attempt}: ${a.status}`,
        `run ${ms(a.finishedAt - a.startedAt)}, waited ${ms(wait)} for a thread`,
        a.tokens ? `${a.tokens} tokens` : '',
        a.error ?? '',
        critical.has(a.id) ? 'on the critical path' : '',
      ]
        .filter(Boolean)
        .join('\n');
      const width = Math.max(MIN_BAR_PX, x(a.finishedAt) - start);
      // A bar with room for its task's id carries it (drawn over every bar, below).
      if (width >= labelWidth(a.id))
        labels.push(
          `<text class="bar-label" x="${(start + 4).toFixed(1)}" y="${y + 14}">${escapeHtml(a.id)}</text>`,
        );
      return `<rect class="bar${critical.has(a.id) ? ' critical' : ''}" data-task="${escapeHtml(a.id)}" data-status="${a.status}" data-details="${escapeHtml(details)}" x="${start.toFixed(1)}" y="${y}" width="${width.toFixed(1)}" height="20" rx="3" fill="${STATUS_COLORS[a.status]}"/>`;
    })
    .join('');

  const name = `Timeline of ${title}: one lane per thread slot, a bar per task attempt`;
  return `<svg viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img"><title>${escapeHtml(name)}</title><defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="4" height="4" fill="#e4e7eb"/><line x1="0" y1="0" x2="0" y2="4" stroke="#9aa5b1" stroke-width="1.5"/></pattern></defs>${ticks}${laneRows}${waitLabel}${waitMarks}${bars}${labels.join('')}${handoverMarks.join('')}</svg>`;
}
