import type { Graph } from '../dag/graph.js';
import type { TaskResult } from '../results.js';
import { type TaskError, taskError } from '../shared/errors.js';

// Most upstream ids an ERR_UPSTREAM_FAILED error names; the rest are counted.
const MAX_UPSTREAM_IDS = 20;

/**
 * Why task `i` is skipped when dependencies did not succeed: the tasks whose
 * failure caused it, found through the causes already recorded for its
 * failed or skipped dependencies (`causes`), so a skip far down a chain
 * still names the task that failed.
 */
export function upstreamSkip(
  graph: Graph,
  results: readonly (TaskResult | undefined)[],
  causes: readonly (string[] | undefined)[],
  i: number,
): { upstream: string[]; error: TaskError } {
  const { depStart, depIdx, ids } = graph;
  const found = new Set<string>();
  let truncated = 0;
  for (let k = depStart[i] as number; k < (depStart[i + 1] as number); k++) {
    const dep = depIdx[k] as number;
    const status = results[dep]?.status;
    if (status === undefined || status === 'done') continue;
    for (const id of causes[dep] ?? [ids[dep] as string]) {
      if (found.size < MAX_UPSTREAM_IDS) found.add(id);
      else if (!found.has(id)) truncated++;
    }
  }
  const upstream = [...found];
  const names = upstream.map((id) => JSON.stringify(id)).join(', ');
  const more = truncated > 0 ? ` and ${truncated} more` : '';
  const message = `skipped: upstream task${upstream.length + truncated > 1 ? 's' : ''} ${names}${more} did not succeed`;
  return { upstream, error: taskError('ERR_UPSTREAM_FAILED', message, { upstream }) };
}
