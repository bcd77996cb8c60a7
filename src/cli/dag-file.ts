import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { limitsSchema } from '../dag/schema.js';
import { DagFileError, describe } from '../errors.js';
import { agentSpecSchema } from '../options.js';
import { retryOverrideSchema } from '../retry.js';

/**
 * A DAG file: a bare task map (the library's format), or a document that
 * also names its agents, defaults and context. Agent paths are relative to
 * the file.
 */
export const dagDocumentSchema = z.strictObject({
  /** Agent name to module path (relative to the file), or `{ module, limits, concurrency, retries, timeoutMs }`. */
  agents: z.record(z.string().min(1), agentSpecSchema).default({}),
  /** Runtime-level defaults for every task. */
  defaults: z
    .strictObject({
      retries: retryOverrideSchema.optional(),
      timeoutMs: z.int().positive().optional(),
      limits: limitsSchema.optional(),
    })
    .default({}),
  /** The run's context. */
  context: z.record(z.string(), z.unknown()).default({}),
  tasks: z.record(z.string(), z.unknown()),
});
export type DagDocument = z.output<typeof dagDocumentSchema>;

const DOCUMENT_KEYS = new Set(['agents', 'defaults', 'context', 'tasks']);
const AGENT_EXTENSIONS = ['.js', '.mjs', '.ts', '.mts'];

/** A loaded DAG file, agent modules resolved to absolute paths. */
export interface DagFile extends DagDocument {
  file: string;
  /** Agents used by tasks that have no module (neither declared nor found next to the file). */
  missingAgents: string[];
}

function parseText(file: string, text: string): unknown {
  if (extname(file) === '.json') {
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw new DagFileError(file, `invalid JSON: ${(cause as Error).message}`, { cause });
    }
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  const [error] = doc.errors;
  if (error) {
    const at = error.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}: ` : '';
    throw new DagFileError(
      file,
      `invalid YAML: ${where}${error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  try {
    // Resolving aliases can still fail (an alias to no anchor, one that expands too far).
    return doc.toJS();
  } catch (cause) {
    throw new DagFileError(file, `invalid YAML: ${(cause as Error).message}`, { cause });
  }
}

function isDocument(value: Record<string, unknown>): boolean {
  return 'tasks' in value && Object.keys(value).every((key) => DOCUMENT_KEYS.has(key));
}

/** Where an agent named in a task but not declared lives by convention: `agents/<name>.js` next to the file. */
function conventionalModule(dir: string, name: string): string | undefined {
  for (const ext of AGENT_EXTENSIONS) {
    const candidate = resolve(dir, 'agents', `${name}${ext}`);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

function absolute(dir: string, module: string | URL): string | URL {
  if (module instanceof URL || module.startsWith('file:') || isAbsolute(module)) return module;
  return resolve(dir, module);
}

/**
 * Reads a DAG file (JSON or YAML). Throws `DagFileError` (`ERR_DAG_FILE`)
 * naming the file and, where it can, the line or the field.
 */
export async function loadDagFile(path: string): Promise<DagFile> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new DagFileError(
      path,
      `cannot read the file (${(cause as NodeJS.ErrnoException).code ?? cause})`,
      { cause },
    );
  }
  const raw = parseText(path, text);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DagFileError(
      path,
      `expected a map of tasks or a document with \`tasks\`, got ${describe(raw)}`,
    );
  }
  const parsed = dagDocumentSchema.safeParse(
    isDocument(raw as Record<string, unknown>) ? raw : { tasks: raw },
  );
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const field = issue.path.map(String).join('.');
      const message =
        issue.code === 'unrecognized_keys'
          ? `unknown field(s) ${issue.keys.join(', ')}`
          : issue.message;
      return `${field || '(top level)'}: ${message.replace(/^Invalid input: /, '')}`;
    });
    throw new DagFileError(path, problems.join('; '));
  }
  const dir = dirname(file);
  const doc = parsed.data;
  const agents: DagDocument['agents'] = {};
  for (const [name, spec] of Object.entries(doc.agents)) {
    agents[name] =
      typeof spec === 'string' || spec instanceof URL
        ? absolute(dir, spec)
        : { ...spec, module: absolute(dir, spec.module) };
  }
  const missingAgents: string[] = [];
  for (const task of Object.values(doc.tasks)) {
    const name = (task as { agent?: unknown } | null)?.agent;
    if (typeof name !== 'string' || name in agents || missingAgents.includes(name)) continue;
    const found = conventionalModule(dir, name);
    if (found) agents[name] = found;
    else missingAgents.push(name);
  }
  return { ...doc, agents, file, missingAgents };
}

/** The module path of an agent spec. */
export function modulePath(spec: DagDocument['agents'][string]): string | URL {
  return typeof spec === 'string' || spec instanceof URL ? spec : spec.module;
}
