import type { Graph } from '../dag/graph.js';
import type { TaskSpec } from '../dag/schema.js';
import type { RunTokens, TaskRequest } from '../shared/protocol.js';
import type { Batch } from './batch-ledger.js';
import { dependencyInputs } from './dependency-inputs.js';
import type { TaskPolicy } from './task-policy.js';
import type { TaskTable } from './task-table.js';

/** What every request of one run shares. */
export interface RequestBase {
  runId: string;
  context: Record<string, unknown>;
  encoding: TaskRequest['encoding'];
  countTokens: boolean;
  runTokens: RunTokens | undefined;
}

/** The wire request for attempt `attempt` of task `i`: built fresh, never changed after. */
export function buildRequest(
  base: RequestBase,
  graph: Graph,
  table: TaskTable,
  policy: TaskPolicy,
  i: number,
  attempt: number,
  batch: Batch | undefined,
): TaskRequest {
  const task = graph.tasks[i] as TaskSpec;
  const { deps, depStatus } = dependencyInputs(graph, table.results, table.outputs, i);
  const { tokens, outputBytes, cpuMs, memoryMb } = policy.limits;
  return {
    runId: base.runId,
    taskId: graph.ids[i] as string,
    agent: policy.agent,
    module: policy.module,
    prompt: task.prompt,
    context: task.context ? { ...base.context, ...task.context } : base.context,
    deps,
    depStatus,
    attempt,
    timeoutMs: policy.timeoutMs,
    batch,
    limits: { tokens, outputBytes, cpuMs },
    memoryMb,
    encoding: base.encoding,
    countTokens: base.countTokens,
    runTokens: base.runTokens,
  };
}
