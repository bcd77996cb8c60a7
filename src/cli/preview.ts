import type { Graph } from '../dag/graph.js';
import type { RunResult } from '../results.js';
import { formatCount } from '../shared/errors.js';
import { toJson } from './json.js';

/** At most this many final tasks are previewed; the rest are counted. */
const MAX_TASKS = 4;
/** Lines per task's output, its heading not counted. */
const MAX_LINES = 14;

function clip(text: string, width: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > width ? `${flat.slice(0, Math.max(1, width - 1))}…` : flat;
}

function isScalar(value: unknown): boolean {
  return value === null || (typeof value !== 'object' && typeof value !== 'function');
}

/**
 * A value on one line: strings bare, arrays of scalars joined, objects as
 * `key: value, …`, an object led by a string field (a list item such as
 * `{ phrase, score }`) as `text — key: value, …`.
 */
function inline(value: unknown): string {
  if (typeof value === 'string') return value;
  if (isScalar(value)) return String(value);
  if (Array.isArray(value))
    return value.every(isScalar) ? value.map(inline).join(', ') : toJson(value);
  if (value instanceof Map || value instanceof Set) return toJson(value);
  const entries = Object.entries(value as object);
  const field = ([key, item]: [string, unknown]) =>
    `${key}: ${isScalar(item) ? inline(item) : toJson(item)}`;
  const [first, ...rest] = entries;
  if (first && typeof first[1] === 'string' && rest.length > 0)
    return `${first[1]} — ${rest.map(field).join(', ')}`;
  return entries.map(field).join(', ');
}

/** Up to `max` lines of at most `width` characters (the last one may run over), words kept whole. */
function wrap(text: string, width: number, max: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const word of text.replace(/\s+/g, ' ').trim().split(' ')) {
    if (line && line.length + 1 + word.length > width) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) out.push(line);
  if (out.length > max) out.splice(max - 1, out.length, out.slice(max - 1).join(' '));
  return out;
}

/**
 * A value as indented lines, nothing wider than `width`: a multi-line
 * string one line per line, an object one field per line (nested ones
 * below their key), an array of objects one item per line. Stops after
 * `budget` lines with a note of what was left out.
 */
function lines(value: unknown, indent: string, width: number, budget: number): string[] {
  const out: string[] = [];
  const room = width - indent.length;
  const push = (line: string) => out.push(`${indent}${clip(line, room)}`);
  if (typeof value === 'string' && value.includes('\n')) {
    const all = value.split('\n').filter((line) => line.trim() !== '');
    for (const line of all.slice(0, budget)) push(line);
    if (all.length > budget) out[budget - 1] = `${indent}… ${all.length - budget + 1} more lines`;
    return out;
  }
  if (Array.isArray(value) && !value.every(isScalar)) {
    for (const item of value.slice(0, budget)) push(inline(item));
    if (value.length > budget) out[budget - 1] = `${indent}… ${value.length - budget + 1} more`;
    return out;
  }
  if (isScalar(value) || Array.isArray(value) || value instanceof Map || value instanceof Set) {
    push(inline(value));
    return out;
  }
  const entries = Object.entries(value as object);
  for (let k = 0; k < entries.length; k++) {
    // Keep a line for "… more fields" while fields remain after this one.
    const left = budget - out.length - (k < entries.length - 1 ? 1 : 0);
    if (left <= 0) {
      out.push(`${indent}… ${entries.length - k} more fields`);
      break;
    }
    const [key, item] = entries[k] as [string, unknown];
    const text = inline(item);
    const block =
      (typeof item === 'string' && item.includes('\n')) ||
      (!isScalar(item) && `${key}: ${text}`.length > room);
    if (typeof item === 'string' && !block) {
      // A long sentence (a verdict) reads better wrapped over a few lines than cut.
      const [head, ...more] = wrap(`${key}: ${text}`, room - 2, Math.min(3, left));
      push(head ?? key);
      for (const line of more) out.push(`${indent}  ${clip(line, room - 2)}`);
      continue;
    }
    if (!block || left < 2) {
      push(`${key}: ${text}`);
      continue;
    }
    push(`${key}:`);
    out.push(...lines(item, `${indent}  `, width, left - 1));
  }
  return out;
}

/** The token budget of each task that has one: task, then agent, then the file's defaults. */
export type TokenBudgets = ReadonlyMap<string, number>;

/** "393 / 2,000 tokens" for a task with a budget, "393 tokens" for one without. */
export function tokensText(tokens: number, budget: number | undefined): string {
  return budget === undefined
    ? `${formatCount(tokens)} tokens`
    : `${formatCount(tokens)} / ${formatCount(budget)} tokens`;
}

/**
 * After a pretty run: a few lines of each final task's output (tasks
 * nothing depends on, which are usually what the DAG was run for), so the
 * result is seen without `--out` or `--format json`. Long values are cut to
 * the terminal's width and a dozen-odd lines a task.
 */
export function finalOutputs(
  run: RunResult,
  graph: Graph,
  budgets: TokenBudgets,
  width: number,
): string {
  const finals: string[] = [];
  for (let i = 0; i < graph.ids.length; i++) {
    if (graph.childStart[i] === graph.childStart[i + 1]) finals.push(graph.ids[i] as string);
  }
  const done = finals.filter((id) => run.tasks[id]?.status === 'done');
  if (done.length === 0) return '';
  const out = ['', `Outputs of the final task${done.length > 1 ? 's' : ''}:`];
  for (const id of done.slice(0, MAX_TASKS)) {
    const task = run.tasks[id];
    if (task?.status !== 'done') continue;
    // A cached result shows what it cost when it was made.
    const used = task.cachedFrom?.tokens ?? task.tokens;
    const tokens = used > 0 || budgets.has(id) ? ` · ${tokensText(used, budgets.get(id))}` : '';
    const cached = task.cachedFrom ? ' · from cache' : '';
    out.push(`${id} (${task.agent})${tokens}${cached}`);
    out.push(...lines(task.output, '  ', width, MAX_LINES));
  }
  if (done.length > MAX_TASKS) out.push(`… and ${done.length - MAX_TASKS} more final tasks`);
  out.push('(all outputs in full: --out results.json, or --format json)');
  return `${out.join('\n')}\n`;
}
