import { z } from 'zod';
import { taskStatusSchema } from '../results.js';
import { decodeValue, encodeValue } from '../shared/clone.js';
import { AgentpoolError, formatCount } from '../shared/errors.js';
import { ENCODINGS, type TaskRequest } from '../shared/protocol.js';

/**
 * Most bytes of a job's body (prompt, context, dependency outputs) and of a
 * reply, once serialized. BullMQ keeps both as clear-text JSON in Redis
 * (base64 here: 4/3 of the bytes), so this caps what one attempt puts in
 * Redis's memory. @default 16 MiB
 */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024;

/**
 * A ready attempt as a BullMQ job's data: what a worker needs to run it,
 * and nothing it would act on blindly. No module path: the worker runs the
 * agent of that name from its own file, if its source hashes to `hash`.
 * Strict: a job with any other field is refused whole.
 */
export const jobSchema = z.strictObject({
  v: z.literal(1),
  runId: z.string().min(1).max(1024),
  taskId: z.string().min(1).max(1024),
  agent: z.string().min(1).max(256),
  /** `agentHash` of the planner's module for this agent. */
  hash: z.string().min(1).max(128),
  attempt: z.int().min(1),
  /** The planner's replies stream (checked against the worker's prefix). */
  replyTo: z.string().min(1).max(512),
  timeoutMs: z.int().positive(),
  timeoutGraceMs: z.int().min(0),
  limits: z.strictObject({
    tokens: z.int().min(0).optional(),
    outputBytes: z.int().positive().optional(),
    cpuMs: z.number().positive().optional(),
  }),
  memoryMb: z.int().min(8).optional(),
  encoding: z.enum(ENCODINGS),
  countTokens: z.boolean(),
  /** The run's token budget in Redis (`keys.budget(id)`): its threads' charges go there. */
  runTokens: z
    .strictObject({
      id: z.string().regex(/^[0-9a-f-]{36}$/),
      limit: z.int().min(0),
    })
    .optional(),
  /** `JobBody`, V8-serialized (structured-clone types survive), base64. */
  body: z.string().max(Math.ceil((MAX_PAYLOAD_BYTES * 4) / 3) + 4),
});
export type JobData = z.output<typeof jobSchema>;

/** What of a request travels serialized: the values structured clone carries and JSON would not. */
const bodySchema = z.strictObject({
  prompt: z.string(),
  context: z.record(z.string(), z.unknown()),
  deps: z.record(z.string(), z.unknown()),
  depStatus: z.record(z.string(), taskStatusSchema),
  batch: z.strictObject({ ids: z.array(z.string()), prompts: z.array(z.string()) }).optional(),
});
export type JobBody = z.output<typeof bodySchema>;

/**
 * Most attempts one pack carries. A worker hands all of a pack's attempts to
 * its threads at once, so this also bounds how much work one job lets a
 * worker hold that another could have run.
 */
export const PACK_MAX = 64;

/**
 * A job of several attempts of short tasks (see `QueueExecutor`): BullMQ's
 * cost per job (its scripts, locks, the worker's fetch) is paid once for
 * all of them. Each attempt is whole, as a job of one would carry it.
 */
export const packSchema = z.strictObject({
  v: z.literal(1),
  pack: z.array(jobSchema).min(1).max(PACK_MAX),
});
export type PackData = z.output<typeof packSchema>;

/** A job's result (BullMQ's `returnvalue`): packed `RemoteOutcome`s, `r` for a job of one attempt, `rs` for a pack's (in its order). */
export type JobResult = { v: 1; r: string } | { v: 1; rs: string[] };

/**
 * A value as base64 of its V8 serialization, or a coded error naming the
 * task when it cannot be serialized or is over `MAX_PAYLOAD_BYTES`.
 */
export function pack(value: unknown, what: string): string {
  let bytes: Buffer;
  try {
    bytes = encodeValue(value);
  } catch (cause) {
    throw new AgentpoolError(
      'ERR_OUTPUT_NOT_CLONEABLE',
      `${what} cannot be serialized for Redis: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (bytes.byteLength > MAX_PAYLOAD_BYTES)
    throw new AgentpoolError(
      'ERR_CLUSTER_PAYLOAD_LIMIT',
      `${what} is ${formatCount(bytes.byteLength)} bytes serialized, over the ${formatCount(MAX_PAYLOAD_BYTES)}-byte limit of one job`,
    );
  return bytes.toString('base64');
}

export function unpack(text: string): unknown {
  return decodeValue(Buffer.from(text, 'base64'));
}

/**
 * The job for one attempt (`request.module` and the budget's local cells
 * stay behind: see `jobSchema`; `budget` names the run's one in Redis).
 */
export function toJob(
  request: TaskRequest,
  hash: string,
  replyTo: string,
  timeoutGraceMs: number,
  budget?: { id: string; limit: number },
): JobData {
  const { prompt, context, deps, depStatus, batch } = request;
  const body: JobBody = { prompt, context, deps, depStatus, ...(batch && { batch }) };
  return {
    v: 1,
    runId: request.runId,
    taskId: request.taskId,
    agent: request.agent,
    hash,
    attempt: request.attempt,
    replyTo,
    timeoutMs: request.timeoutMs,
    timeoutGraceMs,
    limits: JSON.parse(JSON.stringify(request.limits)) as JobData['limits'],
    ...(request.memoryMb !== undefined && { memoryMb: request.memoryMb }),
    encoding: request.encoding,
    countTokens: request.countTokens,
    ...(budget !== undefined && { runTokens: { id: budget.id, limit: budget.limit } }),
    body: pack(body, `the input of task "${request.taskId}"`),
  };
}

/**
 * A job's attempt (validated by `parseAttempts`) as a request for this
 * worker, `module` being the worker's own for that agent; throws
 * `ERR_CLUSTER_JOB_INVALID` for a body other than what `toJob` writes.
 */
export function fromJob(job: JobData, module: (agent: string) => string): TaskRequest {
  let body: JobBody;
  try {
    body = bodySchema.parse(unpack(job.body));
  } catch (cause) {
    throw new AgentpoolError(
      'ERR_CLUSTER_JOB_INVALID',
      `job body of task "${job.taskId}" is not what a planner writes: ${(cause as Error).message}`,
      { cause },
    );
  }
  return {
    runId: job.runId,
    taskId: job.taskId,
    agent: job.agent,
    module: module(job.agent),
    prompt: body.prompt,
    context: body.context,
    deps: body.deps,
    depStatus: body.depStatus,
    attempt: job.attempt,
    timeoutMs: job.timeoutMs,
    batch: body.batch,
    limits: job.limits,
    memoryMb: job.memoryMb,
    encoding: job.encoding,
    countTokens: job.countTokens,
  };
}

/** Validates a job's data; `ERR_CLUSTER_JOB_INVALID` names the first bad field. */
export function parseJob(data: unknown): JobData {
  return parsed(jobSchema.safeParse(data));
}

/** A job's attempts: one, or a pack's (`packed`); `ERR_CLUSTER_JOB_INVALID` names the first bad field. */
export function parseAttempts(data: unknown): { attempts: JobData[]; packed: boolean } {
  if (typeof data === 'object' && data !== null && 'pack' in data)
    return { attempts: parsed(packSchema.safeParse(data)).pack, packed: true };
  return { attempts: [parseJob(data)], packed: false };
}

function parsed<T>(parsed: { success: true; data: T } | { success: false; error: z.ZodError }): T {
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const where = issue?.path.map(String).join('.') || 'job';
  throw new AgentpoolError(
    'ERR_CLUSTER_JOB_INVALID',
    `job data is not what a planner writes: ${where}: ${issue?.message ?? 'invalid'}`,
  );
}
