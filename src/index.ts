// The public surface: an explicit list. Everything not named here is internal.

export type { CacheOptions, ExecuteCacheOption } from './cache/options.js';
export { SqliteStore } from './cache/sqlite-store.js';
export type {
  CacheStats,
  CacheStore,
  NewEntry,
  PruneResult,
  RunRecord,
  StoredEntry,
} from './cache/store.js';
export { CacheEntryError } from './cache/store.js';
export type { DagFile } from './cli/dag-file.js';
export { loadDagFile } from './cli/dag-file.js';
export type { AttemptRecord, TimelineOptions } from './cli/pictures.js';
export { attemptsOf, renderChromeTrace, renderTimeline } from './cli/pictures.js';

export type { DagInput, Limits, TaskInput, TaskSpec, Trigger } from './dag/schema.js';
export { dagSchema, limitsSchema, taskSchema, triggerSchema } from './dag/schema.js';
export { validateDag } from './dag/validate.js';
export type {
  ChunkEvent,
  EventMap,
  EventName,
  Listener,
  ProgressEvent,
  TaskEvent,
  TaskListener,
} from './events.js';
export type { AgentSpec, ExecuteOptions, RuntimeOptions } from './options.js';
export { agentSpecSchema, executeOptionsSchema, runtimeOptionsSchema } from './options.js';
export type { HostServices } from './pool/host-bridge.js';
export type { RunResult, StopReason, TaskResult, TaskStatus } from './results.js';
export { runResultSchema, taskResultSchema, taskStatusSchema } from './results.js';
export type { RetryOverride, RetryPolicy } from './retry.js';
export { retryPolicySchema } from './retry.js';
export { createRuntime, type FanOutOptions, Runtime, type StreamItem } from './runtime.js';
export type { DagIssue, ErrorCode, TaskError } from './shared/errors.js';
export { AgentpoolError, DagValidationError, ERROR_CODES, OptionsError } from './shared/errors.js';
export type { Encoding } from './shared/protocol.js';
export type { AgentStats, DurationSummary, RuntimeStats } from './stats.js';
