import type { Graph } from '../dag/graph.js';
import type { DagFile } from './dag-file.js';

/**
 * Each task's token budget, where it has one: its own `limits.tokens`, else
 * its agent's, else the file's `defaults.limits.tokens` (the order the
 * runtime applies them in). Shown next to the tokens a task used.
 */
export function tokenBudgets(
  graph: Graph,
  file: Pick<DagFile, 'defaults' | 'agents'>,
): Map<string, number> {
  const budgets = new Map<string, number>();
  const fallback = file.defaults.limits?.tokens;
  graph.tasks.forEach((task, i) => {
    const spec = file.agents[task.agent];
    const agentLimit =
      typeof spec === 'object' && !(spec instanceof URL) ? spec.limits?.tokens : undefined;
    const budget = task.limits?.tokens ?? agentLimit ?? fallback;
    if (budget !== undefined) budgets.set(graph.ids[i] as string, budget);
  });
  return budgets;
}
