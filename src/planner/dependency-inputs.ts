import type { Graph } from '../dag/graph.js';
import type { TaskResult } from '../results.js';
import type { TaskRequest as TaskMessage } from '../shared/protocol.js';

/** What a task is given of its direct dependencies: outputs of those that succeeded, and every one's status. */
export function dependencyInputs(
  graph: Graph,
  results: readonly (TaskResult | undefined)[],
  outputs: readonly unknown[],
  i: number,
): Pick<TaskMessage, 'deps' | 'depStatus'> {
  const { depStart, depIdx, ids } = graph;
  // Ids are data: on a plain object, `deps.__proto__ = output` set its
  // prototype and the dependency vanished. (The structured clone to the
  // worker keeps such a key as an own property.)
  const deps: Record<string, unknown> = Object.create(null);
  const depStatus: TaskMessage['depStatus'] = Object.create(null);
  for (let k = depStart[i] as number; k < (depStart[i + 1] as number); k++) {
    const dep = depIdx[k] as number;
    const id = ids[dep] as string;
    const result = results[dep] as TaskResult;
    depStatus[id] = result.status;
    if (result.status === 'done') deps[id] = outputs[dep];
  }
  return { deps, depStatus };
}
