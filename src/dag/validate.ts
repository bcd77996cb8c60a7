import type { z } from 'zod';
import { type DagIssue, DagValidationError, describe } from '../shared/errors.js';
import { issueText, narrowUnions } from '../zod-text.js';
import { lostProtoKey, ownCopy } from './context.js';
import { buildGraph, type Graph, indexIds } from './graph.js';
import { type DagInput, type TaskSpec, taskSchema } from './schema.js';
import { closest } from './suggest.js';

/** Renders a zod path the way users write it: `tasks.draft.depends_on[0]`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = 'tasks';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `.${String(key)}`;
  return out;
}

function schemaIssues(id: string, raw: unknown, error: z.ZodError): DagIssue[] {
  // The same wording as every other zod message: what was expected, and the value received.
  return narrowUnions(error.issues).map((issue) => {
    const path = [id, ...issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key))];
    return {
      code: 'ERR_DAG_INVALID',
      message: `${formatPath(path)}: ${issueText(issue, raw, taskSchema)}`,
      taskIds: [id],
      path: ['tasks', ...path],
    };
  });
}

/** A task whose own object threw while it was read (a getter, a proxy trap). */
function readError(id: string, error: unknown): DagIssue {
  const reason = error instanceof Error ? error.message : describe(error);
  return {
    code: 'ERR_DAG_INVALID',
    message: `${formatPath([id])}: reading it threw: ${reason}`,
    taskIds: [id],
    path: ['tasks', id],
  };
}

/** What the structural checks need of a task: its agent and dependencies. */
type Shape = Pick<TaskSpec, 'dependsOn'> & { agent?: string | undefined };

/**
 * Parses each task on its own (a zod record over 100,000 tasks is several
 * times slower) and normalises its dependencies. Returns the tasks that
 * parsed and the schema problems of those that did not.
 */
function parseTasks(input: Record<string, unknown>): {
  entries: [string, TaskSpec][];
  issues: DagIssue[];
} {
  const entries: [string, TaskSpec][] = [];
  const issues: DagIssue[] = [];
  // Object.keys, not entries: five times faster on a 100,000-key object.
  for (const id of Object.keys(input)) {
    const raw = input[id];
    if (id === '') {
      issues.push({
        code: 'ERR_DAG_INVALID',
        message: 'tasks: a task id must not be empty',
        taskIds: [id],
        path: ['tasks', id],
      });
      continue;
    }
    let parsed: ReturnType<typeof taskSchema.safeParse>;
    try {
      parsed = taskSchema.safeParse(raw);
    } catch (error) {
      issues.push(readError(id, error));
      continue;
    }
    if (!parsed.success) {
      issues.push(...schemaIssues(id, raw, parsed.error));
      continue;
    }
    const task = parsed.data;
    // zod's record drops a `__proto__` key; the context keeps every key it was given.
    const rawContext = (raw as { context?: unknown }).context;
    if (task.context !== undefined && lostProtoKey(rawContext)) task.context = ownCopy(rawContext);
    const { depends_on, dependsOn } = task;
    if (depends_on !== undefined && dependsOn !== undefined) {
      issues.push({
        code: 'ERR_DAG_INVALID',
        message: `${formatPath([id])}: give either \`depends_on\` or \`dependsOn\`, not both`,
        taskIds: [id],
        path: ['tasks', id, 'dependsOn'],
      });
      continue;
    }
    // Duplicates would count one dependency twice when tracking readiness.
    const deps = depends_on ?? dependsOn ?? [];
    // zod returned a fresh object, so it is ours to reshape (a rest-spread copy is slow here).
    task.dependsOn = unique(deps);
    task.depends_on = undefined;
    entries.push([id, task as TaskSpec]);
  }
  return { entries, issues };
}

/**
 * `list` without repeats, the list itself when it has none (zod's output
 * array is already ours). Pairwise for short lists: a Set and a copy per
 * task were a tenth of the garbage a 1M-task plan made.
 */
function unique(list: string[]): string[] {
  if (list.length > 16) return [...new Set(list)];
  for (let a = 1; a < list.length; a++)
    for (let b = 0; b < a; b++) if (list[a] === list[b]) return [...new Set(list)];
  return list;
}

/**
 * Every task of a DAG with schema problems, as far as its agent and
 * dependencies can be read: the tasks that parsed as they are, the others
 * from whatever string fields they have. So a task with a bad `timeoutMs`
 * still counts as existing and its `depends_on` still gets checked.
 */
function readableShapes(
  input: Record<string, unknown>,
  parsed: [string, TaskSpec][],
): [string, Shape][] {
  const valid = new Map<string, Shape>(parsed);
  const shapes: [string, Shape][] = [];
  for (const id of Object.keys(input)) {
    if (id === '') continue;
    const known = valid.get(id);
    if (known) {
      shapes.push([id, known]);
      continue;
    }
    try {
      const raw = input[id];
      const fields = isPlainObject(raw) ? raw : {};
      const deps = [fields.depends_on, fields.dependsOn].flatMap((list) =>
        Array.isArray(list) ? list.filter((dep): dep is string => typeof dep === 'string') : [],
      );
      const agent =
        typeof fields.agent === 'string' && fields.agent !== '' ? fields.agent : undefined;
      shapes.push([id, { agent, dependsOn: [...new Set(deps)] }]);
    } catch {
      shapes.push([id, { agent: undefined, dependsOn: [] }]); // its schema issue says why
    }
  }
  return shapes;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Unknown dependencies, unknown agents and every independent cycle. */
function structureIssues<T extends Shape>(
  entries: [string, T][],
  agents: ReadonlySet<string> | undefined,
): { issues: DagIssue[]; graph?: Graph<T> | undefined } {
  const issues: DagIssue[] = [];
  const known = indexIds(entries.map(([id]) => id));
  for (const [id, task] of entries) {
    const deps = task.dependsOn;
    for (let position = 0; position < deps.length; position++) {
      const dep = deps[position] as string;
      if (known.has(dep)) continue;
      const hint = closest(dep, known.keys());
      issues.push({
        code: 'ERR_DAG_UNKNOWN_DEPENDENCY',
        message: `${id} depends on ${JSON.stringify(dep)}, which is not a task${hint ? ` (did you mean ${JSON.stringify(hint)}?)` : ''}`,
        taskIds: [id],
        path: ['tasks', id, 'depends_on', position],
      });
    }
    if (agents && task.agent !== undefined && !agents.has(task.agent)) {
      const hint = closest(task.agent, agents);
      const registered =
        agents.size === 0 ? 'no agents are registered' : `registered: ${[...agents].join(', ')}`;
      issues.push({
        code: 'ERR_UNKNOWN_AGENT',
        message: `${id} uses agent ${JSON.stringify(task.agent)}, which is not registered (${hint ? `did you mean ${JSON.stringify(hint)}? ` : ''}${registered})`,
        taskIds: [id],
        path: ['tasks', id, 'agent'],
      });
    }
  }
  const built = buildGraph(entries, known);
  for (const path of built.cycles ?? []) {
    issues.push({
      code: 'ERR_DAG_CYCLE',
      message:
        path.length === 2
          ? `cycle: ${path[0]} -> ${path[0]} (${path[0]} depends on itself)`
          : `cycle: ${path.join(' -> ')} (each task depends on the one before it)`,
      taskIds: path,
      path: ['tasks', path[0] as string, 'depends_on'],
    });
  }
  // Order by severity of misunderstanding: a cycle is the structural error users most need to see first.
  const rank = { ERR_DAG_CYCLE: 0, ERR_DAG_UNKNOWN_DEPENDENCY: 1, ERR_UNKNOWN_AGENT: 2 };
  issues.sort((a, b) => rank[a.code as keyof typeof rank] - rank[b.code as keyof typeof rank]);
  return { issues, graph: built.graph };
}

/**
 * Checks a DAG completely before anything runs and returns it in index form.
 * Throws a `DagValidationError` listing every problem: schema errors
 * (`ERR_DAG_INVALID`), dependencies on missing tasks
 * (`ERR_DAG_UNKNOWN_DEPENDENCY`, with a suggestion when a task id is close),
 * agents not in `agents` (`ERR_UNKNOWN_AGENT`), and each independent cycle
 * (`ERR_DAG_CYCLE`). The structural checks also cover tasks with schema
 * errors, as far as their `agent` and `depends_on` can be read; schema
 * errors then come first, so the error's `code` is `ERR_DAG_INVALID`
 * whenever the schema is wrong.
 *
 * @example
 * ```ts
 * import { validateDag } from 'agentpool';
 * try {
 *   validateDag({ a: { agent: 'x', depends_on: ['b'] }, b: { agent: 'x', depends_on: ['a'] } });
 * } catch (error) {
 *   error.code; // 'ERR_DAG_CYCLE'
 *   error.issues[0].taskIds; // ['a', 'b', 'a']
 * }
 * ```
 */
export function compileDag(input: unknown, agents?: ReadonlySet<string>): Graph {
  try {
    return compile(input, agents);
  } catch (error) {
    if (error instanceof DagValidationError) throw error;
    // A getter or proxy trap in the caller's own DAG threw while it was read.
    throw new DagValidationError([
      {
        code: 'ERR_DAG_INVALID',
        message: `tasks: reading the DAG threw: ${error instanceof Error ? error.message : describe(error)}`,
        taskIds: [],
        path: ['tasks'],
      },
    ]);
  }
}

function compile(input: unknown, agents: ReadonlySet<string> | undefined): Graph {
  if (!isPlainObject(input)) {
    throw new DagValidationError([
      {
        code: 'ERR_DAG_INVALID',
        message: `tasks: expected an object mapping task id to task, got ${Array.isArray(input) ? 'an array' : input === null ? 'null' : typeof input}`,
        taskIds: [],
        path: ['tasks'],
      },
    ]);
  }
  const { entries, issues: schema } = parseTasks(input);
  if (schema.length > 0) {
    // One pass shows everything: the structure of what can be read is checked too.
    const { issues } = structureIssues(readableShapes(input, entries), agents);
    throw new DagValidationError([...schema, ...issues] as [DagIssue, ...DagIssue[]]);
  }
  const { issues, graph } = structureIssues(entries, agents);
  if (issues.length > 0 || !graph)
    throw new DagValidationError(issues as [DagIssue, ...DagIssue[]]);
  return graph;
}

/**
 * Validates a DAG without running it; throws `DagValidationError` (see
 * `compileDag`). Pass the agent names to also check that every agent exists.
 */
export function validateDag(dag: DagInput, agents?: Iterable<string>): void {
  compileDag(dag, agents ? new Set(agents) : undefined);
}
