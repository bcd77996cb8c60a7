import { type DagIssue, DagValidationError, describe } from '../shared/errors.js';
import { buildGraph, type Graph } from './graph.js';
import type { TaskSpec } from './schema.js';
import { compileDag } from './validate.js';

/** Throws `ERR_DAG_INVALID` naming every prompt of a fan-out that is not a string (`task_<index>`). */
export function checkPrompts(prompts: readonly unknown[]): void {
  const issues: DagIssue[] = [];
  prompts.forEach((prompt, k) => {
    if (typeof prompt === 'string') return;
    const id = `task_${k}`;
    issues.push({
      code: 'ERR_DAG_INVALID',
      message: `tasks.${id}.prompt: expected a string, got ${describe(prompt)}`,
      taskIds: [id],
      path: ['tasks', id, 'prompt'],
    });
  });
  if (issues.length > 0) throw new DagValidationError(issues as [DagIssue, ...DagIssue[]]);
}

/**
 * A fan-out's DAG: one task per `[id, prompt]`, all alike but for the
 * prompt, none depending on another. The shared fields are checked once (as
 * a one-task DAG, so errors read the same), not once per task: for 50,000
 * tiny tasks that is most of what validation would cost.
 */
export function compileFanOut(
  template: Record<string, unknown>,
  entries: readonly (readonly [string, string])[],
  agents?: ReadonlySet<string>,
): Graph {
  if (entries.length === 0) return compileDag({}, agents);
  const [firstId] = entries[0] as readonly [string, string];
  const task = compileDag({ [firstId]: { ...template, prompt: '' } }, agents).tasks[0] as TaskSpec;
  const built = buildGraph(entries.map(([id, prompt]) => [id, { ...task, prompt }]));
  return built.graph as Graph;
}
