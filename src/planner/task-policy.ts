import { timeLimit } from '../bounds.js';
import type { Limits, TaskSpec } from '../dag/schema.js';
import { mergeLimits } from '../limits.js';
import { mergeRetry, type RetryPolicy } from '../retry.js';
import type { RunAgent } from './run-settings.js';

/** Everything about how one task runs, resolved from runtime < agent < task once per run. */
export interface TaskPolicy {
  agent: string;
  module: string;
  concurrency: number;
  timeoutMs: number;
  limits: Limits;
  retry: RetryPolicy;
}

/** The runtime-level defaults a task policy falls back to. */
export interface PolicyDefaults {
  agents: ReadonlyMap<string, RunAgent>;
  timeoutMs: number;
  limits: Limits;
  retry: RetryPolicy;
}

/**
 * Each task's policy, resolved once when the run is made, never at each
 * attempt. Tasks that override nothing share their agent's policy object,
 * so a million-task fan-out holds one, not a million.
 */
export function resolvePolicies(
  tasks: readonly TaskSpec[],
  defaults: PolicyDefaults,
): TaskPolicy[] {
  const shared = new Map<string, TaskPolicy>();
  const policies = new Array<TaskPolicy>(tasks.length);
  for (let i = 0; i < tasks.length; i++) {
    const task = tasks[i] as TaskSpec;
    const own =
      task.timeoutMs !== undefined || task.limits !== undefined || task.retries !== undefined;
    let policy = own ? undefined : shared.get(task.agent);
    if (policy === undefined) {
      policy = resolvePolicy(task, defaults);
      if (!own) shared.set(task.agent, policy);
    }
    policies[i] = policy;
  }
  return policies;
}

function resolvePolicy(task: TaskSpec, defaults: PolicyDefaults): TaskPolicy {
  const agent = defaults.agents.get(task.agent) as RunAgent;
  return {
    agent: task.agent,
    module: agent.module,
    concurrency: agent.concurrency,
    // `0` in any of them means no limit, as `Infinity` does.
    timeoutMs: timeLimit(task.timeoutMs ?? agent.timeoutMs ?? defaults.timeoutMs),
    limits: mergeLimits(defaults.limits, agent.limits, task.limits),
    retry: mergeRetry(defaults.retry, agent.retries, task.retries),
  };
}
