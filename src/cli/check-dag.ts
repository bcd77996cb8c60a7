import { statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Graph } from '../dag/graph.js';
import { compileDag } from '../dag/validate.js';
import { AgentpoolError, DagValidationError } from '../shared/errors.js';
import { loadProblems } from './check-modules.js';
import { type ConfigChoice, type DagFile, modulePath, readDagFile } from './dag-file.js';
import { type HostFunctions, loadHostModule } from './host-module.js';

/** What an agent module may be: what Node imports as JavaScript, and what tsx loads. */
const MODULE_EXTENSIONS = ['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts'];

/** Why a path cannot be an agent module at all, without loading it. */
function notAModule(file: string): string | undefined {
  const found = statSync(file, { throwIfNoEntry: false });
  if (!found) return `module ${file} does not exist`;
  if (!found.isFile())
    return `module ${file} is ${found.isDirectory() ? 'a directory' : 'not a regular file'}, not a module`;
  if (!MODULE_EXTENSIONS.includes(extname(file)))
    return `module ${file} is not a JavaScript or TypeScript module (${MODULE_EXTENSIONS.join(', ')})`;
  return undefined;
}

const UNKNOWN_AGENT_HINT =
  ' (declare it under `agents:`, or put it at agents/<name>.js next to the file)';

function fileOf(module: string | URL): string | undefined {
  if (module instanceof URL || module.startsWith('file:')) {
    const url = new URL(module);
    return url.protocol === 'file:' ? fileURLToPath(url) : undefined;
  }
  return module;
}

/**
 * Problems with the agent modules: each must exist, and with `load`, import
 * and have an agent as its default export, which `loadProblems` finds out
 * in a worker thread with the task threads' own loader, so what passes here
 * loads in a run too.
 */
async function moduleProblems(
  dag: DagFile,
  load: boolean,
  loadTimeoutMs?: number,
): Promise<string[]> {
  const problems = new Map<string, string>();
  const toLoad: { agent: string; href: string }[] = [];
  for (const [name, spec] of Object.entries(dag.agents)) {
    const module = modulePath(spec);
    const file = fileOf(module);
    const problem = file === undefined ? undefined : notAModule(file);
    if (problem !== undefined) problems.set(name, `ERR_AGENT_LOAD: ${problem}`);
    else
      toLoad.push({
        agent: name,
        href: file !== undefined ? pathToFileURL(file).href : new URL(module).href,
      });
  }
  if (load)
    for (const [name, problem] of await loadProblems(toLoad, loadTimeoutMs))
      problems.set(name, problem);
  // In the file's order of agents, each named as the file names it.
  return Object.keys(dag.agents).flatMap((name) => {
    const problem = problems.get(name);
    if (problem === undefined) return [];
    const field = dag.conventionalAgents.includes(name) ? `agent ${name}` : `agents.${name}`;
    return [`${field}: ${problem}`];
  });
}

/**
 * Everything wrong with a DAG file that can be known before it runs, one
 * line per problem, each led by the file: its document fields, its agent
 * modules (missing ones; with `load`, ones that do not load or export no
 * agent), and every problem `compileDag` finds in its tasks (schema,
 * unknown dependencies and agents, cycles). `run` checks without `load`
 * (its workers load the modules); `validate` with it. Throws `DagFileError`
 * for a file that cannot be read or parsed (`ERR_CONFIG_FILE` for its config
 * file). The host module is loaded (it must be, to run). `graph` is the compiled DAG,
 * when its tasks are valid.
 */
export async function checkDagFile(
  path: string,
  options: {
    load: boolean;
    loadTimeoutMs?: number;
    host?: string | undefined;
    config?: ConfigChoice;
  },
): Promise<{
  dag: DagFile;
  problems: string[];
  graph?: Graph | undefined;
  /** The host module's services (`--host` over the file's `host:` over its config file's). */
  host?: HostFunctions | undefined;
}> {
  const { dag, problems } = await readDagFile(path, { config: options.config });
  // `--host` is relative to where the command runs, as every flag's path is.
  const hostFile = options.host !== undefined ? resolve(options.host) : dag.host;
  let host: HostFunctions | undefined;
  if (hostFile !== undefined) {
    try {
      host = await loadHostModule(hostFile);
    } catch (error) {
      if (!(error instanceof AgentpoolError)) throw error;
      const field = options.host !== undefined ? '--host' : 'host';
      problems.push(`${field}: ${error.code}: ${error.message}`);
    }
  }
  problems.push(...(await moduleProblems(dag, options.load, options.loadTimeoutMs)));
  let graph: Graph | undefined;
  try {
    graph = compileDag(dag.tasks, new Set([...Object.keys(dag.agents), ...dag.invalidAgents]));
  } catch (error) {
    if (!(error instanceof DagValidationError)) throw error;
    for (const issue of error.issues) {
      const hint = issue.code === 'ERR_UNKNOWN_AGENT' ? UNKNOWN_AGENT_HINT : '';
      problems.push(`${issue.code}: ${issue.message}${hint}`);
    }
  }
  return { dag, problems: problems.map((problem) => `${path}: ${problem}`), graph, host };
}
