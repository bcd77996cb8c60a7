import type { z } from 'zod';
import { closest } from './dag/suggest.js';
import { describe } from './shared/errors.js';

/**
 * zod issues as agentpool's messages word them: what was expected, in plain
 * words, and the value received (zod's own "Invalid input" names neither).
 */

type Issue = z.core.$ZodIssue;

/** The value at `path` in `input`, or undefined. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Renders a path the way users write it: `agents.writer.limits`, `depends_on[0]`. */
export function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const key of path)
    out += typeof key === 'number' ? `[${key}]` : `${out ? '.' : ''}${String(key)}`;
  return out;
}

const TYPE_NAMES: Partial<Record<string, string>> = {
  int: 'an integer',
  record: 'an object',
  object: 'an object',
  array: 'an array',
};

/** What an issue wanted, as a noun phrase ("a number >= 0", "one of "a", "b""), if it can tell. */
export function wanted(issue: Issue): string | undefined {
  switch (issue.code) {
    case 'too_small':
    case 'too_big': {
      const op =
        issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      if (issue.origin === 'string' && issue.code === 'too_small' && Number(bound) === 1)
        return 'a non-empty string';
      return `${issue.origin === 'number' ? 'a number' : issue.origin} ${op} ${String(bound)}`;
    }
    case 'invalid_type':
      return TYPE_NAMES[issue.expected] ?? `a ${issue.expected}`;
    case 'invalid_value':
      return `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union': {
      // A union with its own message says what it wants ("expected a module path, ...").
      if (issue.message !== 'Invalid input') return issue.message.replace(/^expected /, '');
      const options = issue.errors.map((branch) =>
        branch.length === 1 && branch[0]?.path.length === 0 ? wanted(branch[0]) : undefined,
      );
      if (options.some((option) => option === undefined)) return undefined;
      return [...new Set(options)].join(' or ');
    }
    case 'custom':
      // A refinement worded as agentpool words things ("expected …") says it all.
      return issue.message.startsWith('expected ') ? issue.message.slice(9) : undefined;
    default:
      return undefined;
  }
}

/**
 * Where a union failed because the value had one branch's type but not its
 * details (an object with a bad field), that branch's issues say more than
 * "expected a number or an object": this replaces such a union issue with
 * them, their paths under the union's.
 */
export function narrowUnions(issues: readonly Issue[]): Issue[] {
  return issues.flatMap((issue) => {
    if (issue.code !== 'invalid_union') return [issue];
    // A branch whose type the value had: its issues are about the value's insides
    // (a field, an unknown key), not about the value as a whole.
    const typed = issue.errors.filter((branch) =>
      branch.some((sub) => sub.path.length > 0 || sub.code === 'unrecognized_keys'),
    );
    if (typed.length !== 1) return [issue];
    return narrowUnions(
      (typed[0] as Issue[]).map((sub) => ({ ...sub, path: [...issue.path, ...sub.path] }) as Issue),
    );
  });
}

function innerType(schema: unknown): unknown {
  let node = schema as { def?: { innerType?: unknown; type?: string; options?: unknown[] } };
  // optional(), default(), nullable() wrap the schema that has the shape.
  while (node?.def?.innerType) node = node.def.innerType as typeof node;
  if (node?.def?.type === 'union') {
    const object = node.def.options?.find((option) => (option as { shape?: unknown }).shape);
    if (object) return object;
  }
  return node;
}

/** The field names an object schema allows at `path`, for "did you mean" hints. */
export function knownKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node = innerType(schema) as { shape?: Record<string, unknown> } | undefined;
  for (const key of path) {
    // A record's entries all have its value type (`agents.<name>` is an agent spec).
    const record = (node as { def?: { type?: string; valueType?: unknown } } | undefined)?.def;
    const next = record?.type === 'record' ? record.valueType : node?.shape?.[String(key)];
    node = innerType(next) as typeof node;
  }
  return node?.shape ? Object.keys(node.shape) : [];
}

/** "unknown field `timeout` (did you mean `timeoutMs`?)", for each key not in `known`. */
export function unknownFields(keys: readonly string[], known: readonly string[]): string {
  return keys
    .map((key) => {
      const hint = closest(key, known);
      return `unknown field \`${key}\`${hint ? ` (did you mean \`${hint}\`?)` : ''}`;
    })
    .join(', ');
}

/**
 * One issue as a sentence without its path: "expected a number > 0, got -1",
 * "missing (expected a non-empty string)", "unknown field `modul` (did you
 * mean `module`?)". `schema` and `input` are what was parsed.
 */
export function issueText(issue: Issue, input: unknown, schema: z.ZodType): string {
  if (issue.code === 'unrecognized_keys')
    return unknownFields(issue.keys, knownKeys(schema, issue.path));
  // A refinement's own sentence ("unknown error code `X` (did you mean `Y`?)") says it all.
  if (issue.code === 'custom' && !issue.message.startsWith('expected ')) return issue.message;
  const value = valueAt(input, issue.path);
  const want =
    wanted(issue) ??
    (issue.message === 'Invalid input'
      ? 'a valid value'
      : issue.message.replace(/^Invalid input: /, ''));
  if (value === undefined) return `missing (expected ${want})`;
  return `expected ${want}, got ${describe(value)}`;
}
