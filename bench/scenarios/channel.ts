import { createRuntime } from '../../src/index.js';
import { median, spread, table, time } from '../lib/stats.js';

/**
 * What the worker-to-host channel costs a task: the same fan-out of tiny
 * tasks with an agent that never touches it and one that sends a progress
 * report and a chunk, alternated.
 */
export async function channelScenario(options: {
  quick: boolean;
  threads: number;
}): Promise<{ markdown: string; ratio: number }> {
  const tasks = options.quick ? 2_000 : 10_000;
  const rounds = options.quick ? 3 : 5;
  const runtime = createRuntime({
    threads: options.threads,
    retries: 0,
    agents: {
      noop: new URL('../agents/noop.js', import.meta.url),
      chatty: new URL('../agents/chatty.js', import.meta.url),
    },
  });
  const prompts = Array.from({ length: tasks }, (_, i) => `p${i}`);
  let chunks = 0;
  runtime.on('chunk', () => {
    chunks++;
  });
  const perTask = async (agent: string) =>
    ((await time(() => runtime.fanOut(agent, prompts))) * 1000) / tasks;
  await perTask('noop');
  await perTask('chatty');
  const quiet: number[] = [];
  const loud: number[] = [];
  for (let r = 0; r < rounds; r++) {
    quiet.push(await perTask('noop'));
    loud.push(await perTask('chatty'));
  }
  await runtime.close();
  if (chunks !== tasks * (rounds + 1))
    throw new Error(`channel: expected ${tasks * (rounds + 1)} chunks, got ${chunks}`);
  const ratio = median(loud) / median(quiet);
  const markdown = table(
    ['agent', 'µs per task (median)', 'range', 'ratio'],
    [
      ['never uses the channel', median(quiet).toFixed(1), spread(quiet, 1), '1.00'],
      ['1 progress report + 1 chunk', median(loud).toFixed(1), spread(loud, 1), ratio.toFixed(2)],
    ],
    ['l', 'r', 'r', 'r'],
  );
  return {
    ratio,
    markdown: `### Worker-to-host channel: ${tasks.toLocaleString('en-US')} tiny tasks on ${options.threads} threads, ${rounds} alternating rounds\n\n${markdown}`,
  };
}
