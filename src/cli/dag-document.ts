import { z } from 'zod';
import { timeLimitSchema } from '../bounds.js';
import { limitsSchema } from '../dag/schema.js';
import { closest } from '../dag/suggest.js';
import { agentSpecSchema, runtimeOptionsSchema } from '../options.js';
import { retryOverrideSchema } from '../retry.js';
import { describe } from '../shared/errors.js';
import { formatPath, issueText, narrowUnions } from '../zod-text.js';

/**
 * The runtime options a DAG file (or config file) may set, as the runtime
 * defines them (same checks), each optional: absent, the runtime's default
 * applies. `agents` and `host` have their own document keys.
 */
const RUNTIME_KEYS = [
  'threads',
  'timeoutGraceMs',
  'failFast',
  'balance',
  'inFlightPerThread',
  'runTokens',
  'encoding',
  'countTokens',
  'idleTimeoutMs',
] as const;

export function optionalRuntimeShape() {
  const shape = runtimeOptionsSchema.shape;
  return Object.fromEntries(
    RUNTIME_KEYS.map((key) => {
      const field = shape[key] as z.ZodType;
      // The runtime's `.default()` is its business: here absent must stay absent.
      const inner = field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : field;
      return [key, inner.optional()];
    }),
  ) as {
    [K in (typeof RUNTIME_KEYS)[number]]: z.ZodOptional<z.ZodType<z.output<(typeof shape)[K]>>>;
  };
}

/**
 * The document form's `defaults`: settings for every task (`retries`,
 * `timeoutMs`, `limits`) and the runtime's options (`threads`, `runTokens`,
 * `countTokens`, `encoding`, …). Flags override them.
 */
export const dagDefaultsSchema = z.strictObject({
  retries: retryOverrideSchema.optional(),
  timeoutMs: timeLimitSchema.optional(),
  limits: limitsSchema.optional(),
  ...optionalRuntimeShape(),
});

/** The object form of an agent: `{ module, concurrency, retries, timeoutMs, limits }`. */
const agentObjectSchema = agentSpecSchema.options[1];

/**
 * A DAG file's content: the agents (name to module path, relative to the
 * file, or `{ module, limits, concurrency, retries, timeoutMs }`), defaults,
 * context, and the task map (checked later, by the library's validation).
 */
export interface DagDocument {
  /** The host module (`host:`), as written: relative to the file. */
  host?: string | undefined;
  agents: Record<string, z.output<typeof agentSpecSchema>>;
  defaults: z.output<typeof dagDefaultsSchema>;
  context: Record<string, unknown>;
  tasks: unknown;
}

const DOCUMENT_KEYS = ['agents', 'defaults', 'context', 'tasks', 'host', '$schema'] as const;

/** `host:` and `$schema:` (the JSON Schema an editor checks the file with: any string, not read). */
export const hostFieldSchema = z.string().min(1);
const schemaFieldSchema = z.string();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function looksLikeTask(value: unknown): boolean {
  return isPlainObject(value) && typeof value.agent === 'string';
}

/**
 * Whether a file is a document rather than a bare task map: it has `tasks`,
 * `agents`, `defaults` or `context` holding something other than a task. (A
 * bare map may have a task named `context`; a document's `tasks` is a map of
 * tasks, never a task.) Deciding on these keys, not on every key being one
 * of them, lets a misspelt key (`default:`) be reported as such instead of
 * the whole document being read as a task map.
 */
export function isDocument(value: Record<string, unknown>): boolean {
  return DOCUMENT_KEYS.some((key) => key in value && !looksLikeTask(value[key]));
}

/** One line per zod issue: `defaults.timeoutMs: expected a number > 0, got -1`. */
export function problemsOf(prefix: string, schema: z.ZodType, value: unknown): string[] {
  const parsed = schema.safeParse(value);
  if (parsed.success) return [];
  return narrowUnions(parsed.error.issues).map((issue) => {
    return `${formatPath(prefix, issue.path)}: ${issueText(issue, value, schema)}`;
  });
}

function readAgents(value: unknown, problems: string[], invalid: string[]): DagDocument['agents'] {
  if (value === undefined) return {};
  if (!isPlainObject(value)) {
    problems.push(
      `agents: expected an object mapping agent name to module path, got ${describe(value)}`,
    );
    return {};
  }
  const agents: DagDocument['agents'] = {};
  for (const [name, spec] of Object.entries(value)) {
    const field = `agents.${name}`;
    let found: string[];
    if (name === '') found = ['agents: an agent name must not be empty'];
    // Agents travel as object keys (`createRuntime({ agents })`), where
    // `__proto__` is an accessor, not a name: it would vanish, and its tasks
    // report an agent that "is not registered". Said here instead.
    else if (name === '__proto__')
      found = [
        'agents.__proto__: an agent cannot be named `__proto__` (JavaScript objects reserve it): rename it',
      ];
    else if (typeof spec === 'string' || spec instanceof URL)
      found = problemsOf(field, agentSpecSchema, spec);
    else if (isPlainObject(spec)) found = problemsOf(field, agentObjectSchema, spec);
    else
      found = [
        `${field}: expected a module path or { module, concurrency, retries, timeoutMs, limits }, got ${describe(spec)}`,
      ];
    if (found.length === 0) agents[name] = agentSpecSchema.parse(spec);
    else invalid.push(name);
    problems.push(...found);
  }
  return agents;
}

/**
 * Reads a parsed DAG file into its parts. A bare task map becomes `tasks`.
 * Problems come back one per line, each naming its field and the value
 * received; a field with problems is left at its default, so the rest of
 * the file can still be checked.
 */
export function readDocument(raw: Record<string, unknown>): {
  document: DagDocument;
  problems: string[];
  /** Agents declared with a wrong entry: left out of `document.agents`, their problems reported. */
  invalidAgents: string[];
} {
  const invalidAgents: string[] = [];
  if (!isDocument(raw)) {
    const document = { agents: {}, defaults: {}, context: {}, tasks: raw };
    return { document, problems: [], invalidAgents };
  }
  const problems: string[] = [];
  for (const key of Object.keys(raw)) {
    if ((DOCUMENT_KEYS as readonly string[]).includes(key)) continue;
    const hint = closest(key, DOCUMENT_KEYS);
    problems.push(
      `unknown field \`${key}\` (${hint ? `did you mean \`${hint}\`?` : 'a DAG document has `agents`, `defaults`, `context`, `tasks`, `host` and `$schema`'})`,
    );
  }
  if (!('tasks' in raw)) problems.push('missing field `tasks` (the map of task id to task)');
  const agents = readAgents(raw.agents, problems, invalidAgents);
  const defaultsProblems = problemsOf('defaults', dagDefaultsSchema, raw.defaults ?? {});
  problems.push(...defaultsProblems);
  const hostProblems = raw.host === undefined ? [] : problemsOf('host', hostFieldSchema, raw.host);
  problems.push(...hostProblems);
  if (raw.$schema !== undefined)
    problems.push(...problemsOf('$schema', schemaFieldSchema, raw.$schema));
  const contextOk = raw.context === undefined || isPlainObject(raw.context);
  if (!contextOk) problems.push(`context: expected an object, got ${describe(raw.context)}`);
  return {
    document: {
      ...(raw.host !== undefined && hostProblems.length === 0 && { host: raw.host as string }),
      agents,
      defaults: defaultsProblems.length === 0 ? dagDefaultsSchema.parse(raw.defaults ?? {}) : {},
      context: contextOk ? ((raw.context as Record<string, unknown> | undefined) ?? {}) : {},
      tasks: raw.tasks ?? {},
    },
    problems,
    invalidAgents,
  };
}
