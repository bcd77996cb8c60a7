import type { AgentSpec, ExecuteOptions } from '../options.js';
import type { RunRecord } from './run-record.js';

/** A journaled run's options back as `createRuntime` and `execute` options (less `redis`, `cache` and `host`). */
export function resumeRecord(record: RunRecord) {
  const agents: Record<string, Exclude<AgentSpec, string | URL>> = {};
  for (const [name, agent] of Object.entries(record.agents)) {
    const { module, concurrency, ...rest } = agent;
    const spec: Record<string, unknown> = { module };
    if (Number.isFinite(concurrency)) spec.concurrency = concurrency;
    for (const [key, value] of Object.entries(rest)) if (value !== undefined) spec[key] = value;
    agents[name] = spec as Exclude<AgentSpec, string | URL>;
  }
  // The cache is the resume's own choice (its flags, else the journaled directory).
  const { cache: _cache, ...recorded } = record.runtime;
  const { context, failFast, runTokens, cache } = record.options;
  const execute: Omit<ExecuteOptions, 'signal' | 'runId'> = {
    context,
    failFast,
    ...(runTokens !== undefined && { runTokens }),
    ...(cache !== undefined && { cache }),
  };
  return {
    agents,
    runtime: { agents, ...recorded, failFast },
    execute,
  };
}
