import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { DagFileError, describe } from '../shared/errors.js';
import { findConfigFile, readConfigFile } from './config-file.js';
import { type DagDocument, readDocument } from './dag-document.js';
import { parseText } from './parse-text.js';
import { MAX_DAG_BYTES, readRegularText } from './read-text.js';

export type { DagDocument } from './dag-document.js';

const AGENT_EXTENSIONS = ['.js', '.mjs', '.ts', '.mts'];

/** A loaded DAG file, agent modules resolved to absolute paths. */
export interface DagFile extends DagDocument {
  file: string;
  /** Absolute path of the host module: the file's `host:`, else its config file's. */
  host?: string | undefined;
  /** The config file (`agentpool.config.*`) found at or above the file, whose settings are under the file's own. */
  config?: string | undefined;
  /** Agents declared with a wrong entry (reported among the file's problems), so left out of `agents`. */
  invalidAgents: string[];
  /** Agents not declared but found by convention at `agents/<name>.js` (or `.mjs`, `.ts`, `.mts`). */
  conventionalAgents: string[];
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
 * Which config file a DAG file is read with: `undefined`/`true`, the nearest
 * `agentpool.config.*` at or above it; a path, that file (`--config`);
 * `false`, none (`--no-config`).
 */
export type ConfigChoice = boolean | string | undefined;

/**
 * Reads a DAG file (JSON or YAML) and what is wrong with its document
 * fields, one problem per line (without the file), leaving those fields at
 * their defaults so the tasks can still be checked. Throws `DagFileError`
 * (`ERR_DAG_FILE`) only for a file that cannot be read or parsed, or that
 * is not a map at all.
 */
export async function readDagFile(
  path: string,
  options: { config?: ConfigChoice } = {},
): Promise<{ dag: DagFile; problems: string[] }> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readRegularText(file, MAX_DAG_BYTES);
  } catch (cause) {
    throw new DagFileError(path, `cannot read the file (${(cause as Error).message})`, { cause });
  }
  const raw = parseText(path, text);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new DagFileError(
      path,
      `expected a map of tasks or a document with \`tasks\`, got ${describe(raw)}`,
    );
  }
  const { document, problems, invalidAgents } = readDocument(raw as Record<string, unknown>);
  const dir = dirname(file);
  const agents: DagDocument['agents'] = {};
  for (const [name, spec] of Object.entries(document.agents)) {
    agents[name] =
      typeof spec === 'string' || spec instanceof URL
        ? absolute(dir, spec)
        : { ...spec, module: absolute(dir, spec.module) };
  }
  const conventionalAgents: string[] = [];
  const tasks = typeof document.tasks === 'object' && document.tasks !== null ? document.tasks : {};
  for (const task of Object.values(tasks)) {
    const name = (task as { agent?: unknown } | null)?.agent;
    if (typeof name !== 'string' || name in agents) continue;
    // A declared agent whose entry is wrong is not looked for elsewhere: it is reported as such.
    if (invalidAgents.includes(name)) continue;
    const found = conventionalModule(dir, name);
    // Not found: validation reports the task's agent as unknown.
    if (found) {
      agents[name] = found;
      conventionalAgents.push(name);
    }
  }
  // The nearest config file's settings go under the file's own, field by field.
  const configFile =
    options.config === false
      ? undefined
      : typeof options.config === 'string'
        ? resolve(options.config)
        : findConfigFile(dir);
  const config = configFile === undefined ? undefined : await readConfigFile(configFile);
  const host = document.host !== undefined ? resolve(dir, document.host) : config?.host;
  return {
    dag: {
      ...document,
      defaults: { ...config?.defaults, ...document.defaults },
      host,
      config: configFile,
      agents,
      file,
      conventionalAgents,
      invalidAgents,
    },
    problems,
  };
}

/**
 * Reads a DAG file (JSON or YAML), with the settings of the nearest
 * `agentpool.config.{js,mjs,ts,json}` at or above it under its own (`config`:
 * a path for that file instead, `false` for none). Throws `DagFileError` (`ERR_DAG_FILE`) naming the file
 * and, where it can, the line or the field, one line per problem, and
 * `ERR_CONFIG_FILE` for a config file that does not load or is wrong.
 *
 * @example
 * const dag = await loadDagFile('dag.yaml');
 * const runtime = createRuntime({ agents: dag.agents, ...dag.defaults });
 */
export async function loadDagFile(
  path: string,
  options: { config?: ConfigChoice } = {},
): Promise<DagFile> {
  const { dag, problems } = await readDagFile(path, options);
  if (problems.length > 0) throw new DagFileError(path, problems);
  return dag;
}

/** The module path of an agent spec. */
export function modulePath(spec: DagDocument['agents'][string]): string | URL {
  return typeof spec === 'string' || spec instanceof URL ? spec : spec.module;
}
