import { availableParallelism } from 'node:os';
import { basename } from 'node:path';
import type { DagInput } from '../dag/schema.js';
import type { RuntimeOptions } from '../options.js';
import { createRuntime } from '../runtime.js';
import { tokenBudgets } from './budgets.js';
import { cacheDir, ensureCacheDir } from './cache-dir.js';
import { checkDagFile } from './check-dag.js';
import type { DagFile } from './dag-file.js';
import { dryRunText } from './dry-run.js';
import { readContext } from './input.js';
import { checkOutputPaths, type OutputPaths } from './outputs.js';
import { EXIT, runSession, type ViewFlags } from './run-session.js';
import { selectTasks } from './select.js';

export interface RunFlags extends ViewFlags {
  threads?: number | 'auto';
  context?: string;
  out?: string;
  report?: string;
  trace?: string;
  retries?: number;
  timeout?: number;
  failFast?: boolean;
  /** false with `--no-cache`. */
  cache: boolean;
  cacheDir?: string;
  rerun: string[];
  runTokens?: number;
  /** `--redis`: run on workers through this Redis. */
  redis?: string;
  runId?: string;
  /** `--host <file>`: the host module, over the file's `host:`. */
  host?: string;
  /** `--only ID|GLOB`, repeatable: those tasks and what they need. */
  only: string[];
  /** `--from ID|GLOB`, repeatable: those tasks and everything downstream, afresh. */
  from: string[];
  /** `--dry-run`: check, print the dispatch order and the critical path, run nothing. */
  dryRun?: boolean;
  /** `--config <file>`: that config file; `--no-config`: none; unset: the nearest one. */
  config?: string | false;
}

/**
 * The runtime's options: the file's `defaults` (which include the runtime's
 * own options, `threads`, `runTokens`, `encoding`, …), each flag over its
 * field. Absent everywhere, the runtime's default applies.
 */
export function runtimeOptions(
  defaults: DagFile['defaults'],
  flags: RunFlags,
  agents: DagFile['agents'],
): RuntimeOptions {
  const overrides = {
    threads: flags.threads,
    retries: flags.retries,
    timeoutMs: flags.timeout,
    failFast: flags.failFast,
    runTokens: flags.runTokens,
    redis: flags.redis,
  };
  const options: Record<string, unknown> = { ...defaults, agents };
  for (const [key, value] of Object.entries(overrides))
    if (value !== undefined) options[key] = value;
  for (const key of Object.keys(options)) if (options[key] === undefined) delete options[key];
  return options as RuntimeOptions;
}

/** `agentpool run <dag>`: runs the file's DAG and returns the exit code. */
export async function runCommand(path: string, flags: RunFlags): Promise<number> {
  // Bad input stops here, before a thread starts, with what validate would say (less module loading).
  // A dry run checks as validate does, agent modules loaded: it is the run's rehearsal.
  const {
    dag: file,
    problems,
    graph: whole,
    host,
  } = await checkDagFile(path, {
    load: flags.dryRun === true,
    host: flags.host,
    config: flags.config,
  });
  if (problems.length > 0 || !whole) {
    for (const problem of problems) process.stderr.write(`agentpool: ${problem}\n`);
    return EXIT.badInput;
  }
  const selection = selectTasks(
    whole,
    file.tasks as Record<string, unknown>,
    new Set(Object.keys(file.agents)),
    flags,
  );
  for (const problem of selection.problems) process.stderr.write(`agentpool: ${problem}\n`);
  if (selection.problems.length > 0) return EXIT.badInput;
  const { graph } = selection;
  if (flags.dryRun) {
    const threads = runtimeOptions(file.defaults, flags, file.agents).threads ?? 'auto';
    const count = threads === 'auto' ? availableParallelism() : threads;
    process.stdout.write(dryRunText(path, graph, count, whole.ids.length));
    return EXIT.ok;
  }
  if (!flags.cache && flags.rerun.length > 0) {
    process.stderr.write(
      'agentpool: --rerun: the cache is off (--no-cache): there is nothing to rerun past\n',
    );
    return EXIT.badInput;
  }
  const cache = cacheDir(flags.cacheDir, path);
  if (flags.cache) ensureCacheDir(cache);
  const outputs: OutputPaths = {
    '--out': flags.out,
    '--report': flags.report,
    '--trace': flags.trace,
  };
  await checkOutputPaths(outputs);
  const context = { ...file.context, ...(flags.context ? await readContext(flags.context) : {}) };
  const runtime = createRuntime({
    ...runtimeOptions(file.defaults, flags, file.agents),
    ...(host && { host }),
    ...(flags.cache && { cache: { dir: cache } }),
  });
  return runSession(runtime, flags, {
    title: basename(path),
    cache,
    graph,
    budgets: tokenBudgets(graph, file),
    outputs,
    runId: flags.runId ?? `${basename(path)}-${Date.now().toString(36)}`,
    tasks: selection.tasks as DagInput,
    options: {
      context,
      ...(flags.failFast !== undefined && { failFast: flags.failFast }),
      ...(flags.cache &&
        flags.rerun.length + selection.rerun.length > 0 && {
          cache: { rerun: [...flags.rerun, ...selection.rerun] },
        }),
    },
  });
}

export { EXIT };
