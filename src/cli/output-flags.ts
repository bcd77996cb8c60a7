import { type Command, Option } from 'commander';

/** The flags of `run` and `resume` that say where a run's results go. */
export function outputFlags(command: Command): Command {
  return command
    .option('-o, --out <file>', 'write the full results (RunResult) as JSON')
    .addOption(
      new Option(
        '-f, --format <format>',
        'pretty: live view on a terminal, plain lines otherwise; json: the results; ndjson: one event per line',
      )
        .choices(['pretty', 'json', 'ndjson'])
        .default('pretty'),
    )
    .option('-r, --report <file>', 'write an HTML timeline of the run')
    .option('--trace <file>', 'write a Chrome trace (Perfetto, chrome://tracing)');
}

/** The flags of `run` and `resume` that say how much the terminal shows, and in colour or not. */
export function viewFlags(command: Command): Command {
  return command
    .option('-q, --quiet', 'print only the final summary and errors')
    .option('--verbose', 'print every event as it happens, streamed chunks included')
    .option('--color', 'colour the output (default: on a colour terminal, unless NO_COLOR is set)')
    .option('--no-color', 'no colour, whatever the terminal');
}
