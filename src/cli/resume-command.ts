import { resolve } from 'node:path';
import { resumeRecord } from '../cluster/resume-options.js';
import { openRun } from '../cluster/resume-read.js';
import { clusterSettings } from '../cluster/settings.js';
import { compileDag } from '../dag/validate.js';
import { createRuntime } from '../runtime.js';
import { AgentpoolError } from '../shared/errors.js';
import { tokenBudgets } from './budgets.js';
import { ensureCacheDir } from './cache-dir.js';
import { loadHostModule } from './host-module.js';
import { checkOutputPaths, type OutputPaths } from './outputs.js';
import { EXIT, runSession, type ViewFlags } from './run-session.js';

/** How long `resume` waits, by default, for the lease of the planner that ran the run to lapse (3 leases). */
export const RESUME_WAIT_MS = 15_000;

export interface ResumeFlags extends ViewFlags {
  redis: string;
  out?: string;
  report?: string;
  trace?: string;
  /** false with `--no-cache`. */
  cache: boolean;
  cacheDir?: string;
  host?: string;
  wait?: number;
}

/**
 * `agentpool resume <run-id> --redis URL`: reads the run's DAG, options and
 * agents from its journal and runs it again on the same id, as `agentpool
 * run <dag> --redis URL --run-id ID` would: it waits for the dead planner's
 * lease to lapse, takes it, replays what finished, adopts attempts still
 * running on workers and runs the rest. Returns the exit code.
 */
export async function resumeCommand(runId: string, flags: ResumeFlags): Promise<number> {
  const outputs: OutputPaths = {
    '--out': flags.out,
    '--report': flags.report,
    '--trace': flags.trace,
  };
  await checkOutputPaths(outputs);
  let record: Awaited<ReturnType<typeof openRun>>;
  try {
    record = await openRun(
      clusterSettings(flags.redis),
      runId,
      flags.wait ?? RESUME_WAIT_MS,
      (left) =>
        process.stderr.write(
          `agentpool: run ${JSON.stringify(runId)} is still leased by its planner (${Math.ceil(left / 1000)} s left unless renewed): waiting for the lease to lapse\n`,
        ),
    );
  } catch (error) {
    if (!(error instanceof AgentpoolError)) throw error;
    process.stderr.write(`agentpool: ${error.code}: ${error.message}\n`);
    return EXIT.badInput;
  }
  const { runtime: options, execute, agents } = resumeRecord(record);
  const recorded = record.runtime.cache;
  const dir = !flags.cache
    ? undefined
    : (flags.cacheDir ?? (typeof recorded === 'object' ? recorded.dir : undefined));
  if (dir !== undefined) ensureCacheDir(dir);
  const host = flags.host === undefined ? undefined : await loadHostModule(resolve(flags.host));
  // The journal's DAG passed validation once; compiled here for the view and the report.
  const graph = compileDag(record.dag, new Set(Object.keys(agents)));
  const runtime = createRuntime({
    ...options,
    redis: flags.redis,
    ...(dir !== undefined && { cache: { dir } }),
    ...(host && { host }),
  });
  return runSession(runtime, flags, {
    title: runId,
    cache: dir ?? '',
    graph,
    budgets: tokenBudgets(graph, { defaults: { limits: options.limits }, agents }),
    outputs,
    runId,
    tasks: record.dag,
    options: {
      ...execute,
      ...(dir === undefined && { cache: false }),
    },
  });
}
