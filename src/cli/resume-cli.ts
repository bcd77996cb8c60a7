import type { Command } from 'commander';
import { outputFlags, viewFlags } from './output-flags.js';
import { RESUME_WAIT_MS, type ResumeFlags, resumeCommand } from './resume-command.js';

/** `agentpool resume`'s flags and help; `wait` parses `--wait`. */
export function resumeCommandLine(program: Command, wait: (value: string) => number): void {
  const resume = program
    .command('resume')
    .description(
      'take over a run (agentpool run --redis --run-id) whose planner died, from its journal in Redis',
    )
    .argument('<run-id>', 'the run’s id (its --run-id, or the id its results report)')
    .requiredOption('--redis <url>', 'the Redis the run was journaled in');
  outputFlags(resume)
    .option(
      '--cache-dir <dir>',
      'where the task cache lives (default: the directory the run used, from the journal)',
    )
    .option('--no-cache', 'neither read nor write the task cache')
    .option(
      '--host <file>',
      'host services module: its exported functions are ctx.host.<name> (the journal holds only their names)',
    )
    .option(
      '--wait <ms>',
      `how long to wait for the dead planner’s lease to lapse (default ${RESUME_WAIT_MS})`,
      wait,
    );
  viewFlags(resume)
    .addHelpText(
      'after',
      `
The journal holds the run's DAG (as validated), its options (context, failFast, runTokens,
retries, timeouts, limits, encoding, the cache directory) and its agents: each one's module
path and settings and the hash of its source when the run started. No DAG file is read: the
agents are the modules at those paths (hashed for the workers' check, as run does), and the
resume is refused (ERR_RESUME_AGENT_CHANGED) when one is missing or its source changed. Host
services: only their names are journaled; give the module again with --host. A run id the
journal does not hold is refused with ERR_RESUME_UNKNOWN_RUN (exit 2).

Exit codes: as agentpool run's (0 every task done, 1 some not, 2 bad input or no such run,
130 interrupted, 143 terminated).

Examples:
  $ agentpool run dag.yaml --redis redis://10.0.0.5:6379 --run-id nightly-42   # its planner dies
  $ agentpool resume nightly-42 --redis redis://10.0.0.5:6379 --out results.json`,
    )
    .action(async (runId: string, flags: ResumeFlags) => {
      process.exitCode = await resumeCommand(runId, flags);
    });
}
