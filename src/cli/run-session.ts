import { now } from '../clock.js';
import type { Graph } from '../dag/graph.js';
import type { DagInput } from '../dag/schema.js';
import type { ExecuteOptions } from '../options.js';
import type { RunResult } from '../results.js';
import type { Runtime } from '../runtime.js';
import { AgentpoolError } from '../shared/errors.js';
import { analyze } from './analysis.js';
import { Eta } from './eta.js';
import { wrapWords } from './fit.js';
import { toJson } from './json.js';
import { LiveView, NdjsonView, PlainView, type View } from './live-view.js';
import { type OutputPaths, writeOutputs } from './outputs.js';
import { COLOUR, canRedraw, colourWanted, PLAIN } from './paint.js';
import { finalOutputs } from './preview.js';
import { Recorder } from './recorder.js';
import { timelineHtml } from './report-html.js';
import { cacheLine, summary } from './run-summary.js';
import { chromeTrace } from './trace.js';
import { VerboseView } from './verbose-view.js';

/**
 * Exit codes: every task done; some not (or an output file could not be
 * written); bad input (also an agent module that did not load); interrupted by Ctrl-C (SIGINT, 128 + 2) or SIGTERM
 * (128 + 15), as shells report a process a signal ended.
 */
export const EXIT = {
  ok: 0,
  tasksFailed: 1,
  badInput: 2,
  interrupted: 130,
  terminated: 143,
} as const;

const SIGNAL_EXIT = { SIGINT: EXIT.interrupted, SIGTERM: EXIT.terminated } as const;
type StopSignal = keyof typeof SIGNAL_EXIT;
/**
 * Ends the process at once, as the signal's default action would have: the
 * shell sees 130/143 and a script running it stops (a shell tells a child
 * that died of SIGINT from one that exited 130). Not `process.exit()`: it
 * joins every worker thread first, so it waits as long as one stays stuck in
 * a native call (measured: until an agent's 6 s `execFileSync` returned).
 */
function exitBySignal(signal: StopSignal): never {
  // Without exit hooks the live view cannot show the cursor again itself.
  if (process.stdout.isTTY) process.stdout.write('\u001b[?25h');
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
  // The signal is delivered before kill() returns; this is for a platform where it is not.
  process.exit(SIGNAL_EXIT[signal]);
}

/** Below this much work, a run is not measured against its lower bound. */
const MEANINGFUL_WORK_MS = 50;

/** Signals closer together than this are one (see onSignal); no one presses Ctrl-C twice that fast. */
const SAME_SIGNAL_MS = 100;

/** How `run` and `resume` show a run. */
export interface ViewFlags {
  format: 'pretty' | 'json' | 'ndjson';
  /** `--color` / `--no-color`; undefined: NO_COLOR, FORCE_COLOR, then whether stdout is a terminal. */
  color?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

/** One run of the CLI's, its input read and checked: what `runSession` runs and shows. */
export interface Session {
  /** The report's title (the DAG file's name). */
  title: string;
  /** The task cache's directory (named in the cache line). */
  cache: string;
  graph: Graph;
  budgets: Map<string, number>;
  outputs: OutputPaths;
  runId: string;
  tasks: DagInput;
  options: Omit<ExecuteOptions, 'signal' | 'runId'>;
}

/**
 * Runs a session on `runtime` (closed at the end) with the live view,
 * Ctrl-C/SIGTERM handling, output files and summary of `agentpool run`,
 * and returns the exit code.
 */
export async function runSession(
  runtime: Runtime,
  flags: ViewFlags,
  session: Session,
): Promise<number> {
  const { graph, budgets, outputs, cache, runId } = session;
  const total = graph.ids.length;
  const out = process.stdout;
  const paint = colourWanted(flags.color, out, process.env) ? COLOUR : PLAIN;
  const view: View | undefined =
    flags.format === 'ndjson'
      ? new NdjsonView(out)
      : flags.format === 'json' || flags.quiet
        ? undefined
        : flags.verbose
          ? new VerboseView(out, paint)
          : canRedraw(out, process.env)
            ? new LiveView(out, total, { eta: new Eta(graph, runtime.threads), paint })
            : new PlainView(out, total, budgets, paint);
  const recorder = new Recorder(runtime, runId, (name, event) => view?.event(name, event));
  const controller = new AbortController();
  // Ctrl-C and SIGTERM (CI cancel, docker stop, `timeout`) stop the run the
  // same way: queued tasks cancelled, running ones aborted, the files
  // written. A second signal does not wait for any of that, unless it comes
  // with the first: coreutils `timeout` signals both the process and its
  // group, so one `timeout` arrives as two SIGTERMs microseconds apart.
  let interrupted: StopSignal | undefined;
  let interruptedAt = 0;
  const onSignal = (signal: StopSignal) => {
    if (interrupted) {
      if (now() - interruptedAt >= SAME_SIGNAL_MS) exitBySignal(signal);
      return;
    }
    interrupted = signal;
    interruptedAt = now();
    process.stderr.write(
      `agentpool: ${signal}: stopping, writing what ran (${signal === 'SIGINT' ? 'Ctrl-C' : 'signal'} again to exit at once)\n`,
    );
    controller.abort(new AgentpoolError('ERR_CANCELLED', `interrupted (${signal})`));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  view?.start(recorder);
  let run: RunResult;
  try {
    run = await runtime.execute(session.tasks, {
      ...session.options,
      signal: controller.signal,
      runId,
    });
  } finally {
    view?.stop();
    recorder.stop();
    await runtime.close({ cancel: true });
  }

  // What ran is written even when the run was interrupted: nothing finished is lost.
  const attempts = [...recorder.attempts].sort((a, b) => a.startedAt - b.startedAt);
  const analysis = analyze(run, graph, attempts, Math.max(1, runtime.threads));
  const failures = await writeOutputs(outputs, {
    '--out': () => `${toJson(run, 2)}\n`,
    '--report': () => timelineHtml(session.title, run, attempts, analysis),
    '--trace': () => toJson(chromeTrace(run, attempts)),
  });
  // Machine-readable stdout stays so: the cache line goes to stderr there.
  if (flags.format !== 'pretty') process.stderr.write(cacheLine(run, cache));
  if (flags.format === 'json') out.write(`${toJson(run, 2)}\n`);
  else if (flags.format === 'ndjson') {
    const { tasks: _tasks, ...totals } = run;
    out.write(`${toJson({ type: 'run', ...totals })}\n`);
  } else {
    // A run cut short did not do all its work: measuring it against the bound would flatter it.
    const complete = !interrupted && run.stoppedBy === null;
    const threads = `${analysis.threads} thread${analysis.threads === 1 ? '' : 's'}`;
    // Against a few ms of work, thread start-up and messaging dominate: the ratio would mean nothing.
    const ratio =
      !attempts.length || !complete
        ? ''
        : analysis.busyMs < MEANINGFUL_WORK_MS
          ? `; on ${threads}, too short (${Math.round(analysis.busyMs)} ms of work) to compare with the lower bound`
          : `; ${analysis.ratio.toFixed(2)}× the lower bound on ${threads}`;
    // On a terminal, wrapped at its width between words (the terminal would cut words).
    const toWidth = (text: string) => (out.isTTY ? wrapWords(text, (out.columns ?? 0) - 1) : text);
    out.write(toWidth(cacheLine(run, cache) + summary(run, ratio)));
    if (!flags.quiet)
      out.write(toWidth(finalOutputs(run, graph, budgets, out.isTTY ? (out.columns ?? 100) : 100)));
  }
  for (const failure of failures) process.stderr.write(`agentpool: ${failure}\n`);
  if (interrupted) return SIGNAL_EXIT[interrupted];
  // An agent module that does not load is bad input, as validate says it is.
  if (Object.values(run.tasks).some((task) => task.error?.code === 'ERR_AGENT_LOAD'))
    return EXIT.badInput;
  return run.done === run.total && failures.length === 0 ? EXIT.ok : EXIT.tasksFailed;
}
