// The public surface: an explicit list. Everything not named here is internal.

export type { DagInput, Limits, TaskInput, TaskSpec, Trigger } from './dag/schema.js';
export { dagSchema, taskSchema, triggerSchema } from './dag/schema.js';
export { validateDag } from './dag/validate.js';
export type { DagIssue, ErrorCode, TaskError } from './errors.js';
export { AgentpoolError, DagValidationError, ERROR_CODES, OptionsError } from './errors.js';
export type { TaskEvent, TaskListener } from './events.js';
export type { AgentSpec, ExecuteOptions, RuntimeOptions } from './options.js';
export { agentSpecSchema, executeOptionsSchema, runtimeOptionsSchema } from './options.js';
export type { RunResult, StopReason, TaskResult, TaskStatus } from './results.js';
export { runResultSchema, taskResultSchema, taskStatusSchema } from './results.js';
export type { RetryOverride, RetryPolicy } from './retry.js';
export { retryPolicySchema } from './retry.js';
export { createRuntime, type FanOutOptions, Runtime } from './runtime.js';
export type { AgentStats, DurationSummary, RuntimeStats } from './stats.js';
