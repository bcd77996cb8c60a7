#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { AgentpoolError } from '../shared/errors.js';
import { cacheCommands } from './cache-command.js';
import { LOAD_TIMEOUT_MS } from './check-modules.js';
import { graphCommand } from './graph-command.js';
import { outputFlags, viewFlags } from './output-flags.js';
import { resumeCommandLine } from './resume-cli.js';
import { EXIT, type RunFlags, runCommand } from './run-command.js';
import { validateCommand } from './validate-command.js';
import { type WorkerFlags, workerCommand } from './worker-command.js';

const { version } = JSON.parse(
  readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
) as {
  version: string;
};

function integer(min: number, name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min)
      throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got "${value}"`);
    return n;
  };
}

function threads(value: string): number | 'auto' {
  return value === 'auto' ? 'auto' : integer(0, '--threads')(value);
}

const COMMANDS = ['run', 'resume', 'validate', 'graph', 'worker'];

/**
 * commander's error ("error: unknown option '--bogus'") as every CLI error
 * line reads, with where to look instead of the whole help.
 */
function errorLine(text: string): string {
  const command = process.argv.slice(2).find((arg) => COMMANDS.includes(arg));
  const help = command ? `agentpool ${command} --help` : 'agentpool --help';
  return `agentpool: ${text.trim().replace(/^error: /, '')} (see ${help})\n`;
}

const program = new Command()
  .name('agentpool')
  .description('Run DAGs of CPU-heavy agent tasks on every core.')
  .version(version, '-v, --version')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(errorLine(text)) })
  .addHelpText(
    'after',
    `
Examples:
  $ agentpool run examples/research/dag.yaml                    # the bundled example, live view
  $ agentpool run dag.yaml --report timeline.html --out results.json
  $ agentpool validate dag.yaml                                 # every problem, exit 2 on any
  $ agentpool graph dag.yaml --format dot | dot -Tsvg > dag.svg
  $ agentpool run --help                                        # each command's flags and examples`,
  );

const run = program
  .command('run')
  .description('run a DAG file (JSON or YAML) on worker threads')
  .argument('<dag>', 'the DAG file')
  .option(
    '-t, --threads <n>',
    "worker threads: a number, 'auto' (one per core) or 0 (inline)",
    threads,
  )
  .option(
    '-c, --context <file|json>',
    'run context: a JSON/YAML file or inline JSON, over the file’s own context',
  );
outputFlags(run)
  .option(
    '--retries <n>',
    'retries per task (overrides the file’s defaults)',
    integer(0, '--retries'),
  )
  .option(
    '--timeout <ms>',
    'time limit per attempt in ms (overrides the file’s defaults)',
    integer(1, '--timeout'),
  )
  .option('--fail-fast', 'cancel everything queued at the first failure')
  .option(
    '--cache-dir <dir>',
    'where the task cache lives (default: .agentpool/ next to the DAG file)',
  )
  .option('--no-cache', 'neither read nor write the task cache')
  .option(
    '--rerun <id|glob>',
    'run this task (an id, or a glob such as "draft_*") and all it feeds even if cached; repeatable',
    (value: string, list: string[]) => [...list, value],
    [] as string[],
  )
  .option(
    '--only <id|glob>',
    'run only these tasks and what they need (upstream); repeatable',
    (value: string, list: string[]) => [...list, value],
    [] as string[],
  )
  .option(
    '--from <id|glob>',
    'run these tasks and everything downstream afresh; what they need upstream comes from the cache, or runs; repeatable',
    (value: string, list: string[]) => [...list, value],
    [] as string[],
  )
  .option(
    '--dry-run',
    'check everything, print the dispatch order and the critical path, run nothing',
  );
viewFlags(run)
  .option(
    '--host <file>',
    'host services module: its exported functions are ctx.host.<name> (over the file’s host:)',
  )
  .option(
    '--run-tokens <n>',
    'token budget of the whole run, shared by every task (overrides the file’s defaults)',
    integer(0, '--run-tokens'),
  )
  .option(
    '--redis <url>',
    'run on `agentpool worker` processes through this Redis instead of local threads',
  )
  .option('--run-id <id>', 'the run’s id (default: the file name and the time)')
  .option(
    '--config <file>',
    'read settings from this config file, not the nearest agentpool.config.*',
  )
  .option('--no-config', 'read no agentpool.config.* file')
  .addHelpText(
    'after',
    `
Exit codes: 0 every task done, 1 some task failed or was skipped (or an output file could
not be written), 2 bad input (an agent module that does not load included), 130 interrupted (Ctrl-C), 143 terminated (SIGTERM).

Examples:
  $ agentpool run examples/research/dag.yaml
  $ agentpool run dag.yaml --threads 8 --report timeline.html --out results.json
  $ agentpool run dag.yaml --format ndjson | jq -c 'select(.type == "failed")'
  $ agentpool run dag.yaml --context '{"topic": "worker threads"}' --fail-fast
  $ agentpool run dag.yaml --rerun draft --rerun 'review_*'        # ignore those tasks' cached results
  $ agentpool run dag.yaml --only 'review_*' --dry-run              # what would run, in which order`,
  )
  .action(async (dag: string, flags: RunFlags) => {
    process.exitCode = await runCommand(dag, flags);
  });

resumeCommandLine(program, integer(0, '--wait'));
cacheCommands(program);

program
  .command('worker')
  .description('run attempts from a Redis queue (agentpool run --redis) on this machine’s threads')
  .argument('<file>', 'a DAG file (its agents: section) or a file of just agents')
  .requiredOption('--redis <url>', 'the Redis the planner uses (redis:// or rediss://)')
  .option('--prefix <prefix>', 'key prefix shared with the planner (default agentpool)')
  .option('-t, --threads <n>', "worker threads: a number or 'auto' (one per core)", threads)
  .option('--host <module>', 'a module whose exported functions agents call as ctx.host.name()')
  .option(
    '--lock-ms <ms>',
    'job lock (default 5000): a dead worker’s job runs again within lock + 2 stall checks',
    integer(100, '--lock-ms'),
  )
  .option(
    '--stalled-ms <ms>',
    'how often the stall check runs (default 2500)',
    integer(100, '--stalled-ms'),
  )
  .addHelpText(
    'after',
    '\nExamples:\n  $ agentpool worker dag.yaml --redis redis://127.0.0.1:6379 --threads 8',
  )
  .action(async (file: string, flags: WorkerFlags) => {
    process.exitCode = await workerCommand(file, flags);
  });

program
  .command('validate')
  .description('check a DAG file: schema, cycles, unknown dependencies and agents, agent modules')
  .argument('<dag>', 'the DAG file')
  .option(
    '--load-timeout <ms>',
    `time each agent module may take to load, in ms (default ${LOAD_TIMEOUT_MS})`,
    integer(1, '--load-timeout'),
  )
  .option('--host <file>', 'host services module to check (over the file’s host:)')
  .option(
    '--config <file>',
    'read settings from this config file, not the nearest agentpool.config.*',
  )
  .option('--no-config', 'read no agentpool.config.* file')
  .addHelpText('after', '\nExamples:\n  $ agentpool validate examples/research/dag.yaml')
  .action(
    async (
      dag: string,
      flags: { loadTimeout?: number; host?: string; config?: string | false },
    ) => {
      const problems = await validateCommand(dag, flags);
      for (const problem of problems) process.stderr.write(`agentpool: ${problem}\n`);
      if (problems.length > 0) process.exitCode = EXIT.badInput;
      else process.stdout.write(`${dag}: ok\n`);
    },
  );

program
  .command('graph')
  .description('print the DAG as a diagram source, its critical path marked')
  .argument('<dag>', 'the DAG file')
  .addOption(
    new Option('-f, --format <format>', 'diagram language')
      .choices(['mermaid', 'dot'])
      .default('mermaid'),
  )
  .option(
    '--config <file>',
    'read settings from this config file, not the nearest agentpool.config.*',
  )
  .option('--no-config', 'read no agentpool.config.* file')
  .addHelpText(
    'after',
    '\nExamples:\n  $ agentpool graph examples/research/dag.yaml\n  $ agentpool graph dag.yaml --format dot | dot -Tsvg > dag.svg',
  )
  .action(async (dag: string, flags: { format: 'mermaid' | 'dot'; config?: string | false }) => {
    process.stdout.write(await graphCommand(dag, flags.format, flags.config));
  });

// A reader that went away (`run … | head -1`) does not stop a run: it goes
// on, writes its --out/--report/--trace files and exits with its own
// status; what it would have printed is dropped (a destroyed stream
// ignores later writes).
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; a bad flag or argument is bad input.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT.badInput;
  } else if (error instanceof AgentpoolError) {
    // One line per problem (a DagFileError may have several), each saying where it came from.
    for (const line of error.message.split('\n')) process.stderr.write(`agentpool: ${line}\n`);
    process.exitCode = EXIT.badInput;
  } else {
    process.stderr.write(
      `agentpool: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exitCode = 1;
  }
}
