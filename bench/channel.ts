/**
 * What the worker-to-host channel costs per task: the same fan-out of tiny
 * tasks with an agent that never touches the channel and with one that
 * sends a progress report and a chunk, alternated in one process.
 */
import { createRuntime } from '../src/index.js';

const quick = process.argv.includes('--quick');
const tasks = quick ? 2_000 : 10_000;
const rounds = quick ? 3 : 5;
const runtime = createRuntime({
  threads: 2,
  agents: {
    noop: new URL('./agents/noop.js', import.meta.url),
    chatty: new URL('./agents/chatty.js', import.meta.url),
  },
});
const prompts = Array.from({ length: tasks }, (_, i) => `p${i}`);
let chunks = 0;
runtime.on('chunk', () => {
  chunks++;
});

async function timed(agent: string): Promise<number> {
  const start = performance.now();
  const results = await runtime.fanOut(agent, prompts);
  const ms = performance.now() - start;
  if (results.some((r) => r.status !== 'done')) throw new Error(`${agent}: a task failed`);
  return (ms * 1000) / tasks;
}

await timed('noop'); // warm both agents' modules and the channel
await timed('chatty');
const quiet: number[] = [];
const loud: number[] = [];
for (let r = 0; r < rounds; r++) {
  quiet.push(await timed('noop'));
  loud.push(await timed('chatty'));
}
await runtime.close();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const spread = (xs: number[]) => `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}`;
if (chunks !== tasks * (rounds + 1))
  throw new Error(`expected ${tasks * (rounds + 1)} chunks, got ${chunks}`);
console.log(
  `\nChannel cost, ${tasks.toLocaleString('en')} tiny tasks on 2 threads, ${rounds} alternating rounds:\n`,
);
console.log('| agent | µs per task (median) | range | ratio |');
console.log('| --- | ---: | ---: | ---: |');
console.log(`| never uses the channel | ${median(quiet).toFixed(1)} | ${spread(quiet)} | 1.00 |`);
console.log(
  `| 1 progress + 1 chunk | ${median(loud).toFixed(1)} | ${spread(loud)} | ${(median(loud) / median(quiet)).toFixed(2)} |`,
);
