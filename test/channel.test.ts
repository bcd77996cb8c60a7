import { createRuntime, type Runtime, type StreamItem } from 'agentpool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStatus, fixture } from './helpers.js';

const agents = { chatty: fixture('chatty'), host: fixture('host-user'), echo: fixture('echo') };
const calls: string[] = [];
const host = {
  search: async (query: string) => {
    calls.push(query);
    return `results for ${query}`;
  },
  broken: () => {
    throw new Error('database is down');
  },
};

for (const threads of [2, 0]) {
  describe(`worker-to-host channel (threads: ${threads})`, () => {
    let runtime: Runtime;
    beforeAll(() => {
      runtime = createRuntime({ threads, retries: 0, agents, host });
    });
    afterAll(() => runtime.close());

    it('delivers every chunk and progress report, in order, before the result', async () => {
      const seen: string[] = [];
      const offChunk = runtime.on('chunk', (e) => {
        seen.push(`${e.id}:chunk:${String(e.chunk)}`);
      });
      const offProgress = runtime.on('progress', (e) => {
        seen.push(`${e.id}:progress:${e.fraction}`);
      });
      const offTask = runtime.on('task', (e) => {
        if ('result' in e) seen.push(`${e.id}:${e.type}`);
      });
      const run = await runtime.execute({
        a: { agent: 'chatty', prompt: '50' },
        b: { agent: 'chatty', prompt: '50' },
      });
      offChunk();
      offProgress();
      offTask();
      for (const id of ['a', 'b']) {
        const mine = seen.filter((s) => s.startsWith(`${id}:`));
        expect(mine).toHaveLength(101);
        expect(mine.at(-1)).toBe(`${id}:done`);
        const chunks = mine.filter((s) => s.includes(':chunk:')).map((s) => s.split(':')[2]);
        expect(chunks).toEqual(Array.from({ length: 50 }, (_, i) => `chunk-${i}`));
        expect(mine.filter((s) => s.includes(':progress:')).at(-1)).toBe(`${id}:progress:1`);
      }
      expect(expectStatus(run.tasks.a, 'done').output).toContain('chunk-49');
    });

    it('delivers the chunks of a task that then fails, before its failure', async () => {
      const order: string[] = [];
      for await (const item of runtime.stream(
        { f: { agent: 'chatty', prompt: '5', context: { fail: true } } },
        { events: true },
      )) {
        order.push(item.type === 'result' ? `result:${item.result.status}` : item.type);
      }
      expect(order.filter((t) => t === 'chunk')).toHaveLength(5);
      expect(order.at(-1)).toBe('result:failed');
    });

    it('interleaves progress and chunks in stream({ events: true })', async () => {
      const items: StreamItem[] = [];
      for await (const item of runtime.stream(
        { s: { agent: 'chatty', prompt: '3' } },
        { events: true },
      ))
        items.push(item);
      expect(items.map((i) => i.type)).toEqual([
        'chunk',
        'progress',
        'chunk',
        'progress',
        'chunk',
        'progress',
        'result',
      ]);
      const progress = items[1];
      expect(progress?.type === 'progress' && progress.message).toBe('step 1 of 3');
    });

    it('lets agents call host services on the main thread', async () => {
      calls.length = 0;
      const run = await runtime.execute({
        q1: { agent: 'host', prompt: 'worker threads' },
        q2: { agent: 'host', prompt: 'piscina' },
        bad: { agent: 'host', prompt: 'x', context: { service: 'broken' } },
        missing: { agent: 'host', prompt: 'x', context: { service: 'nope' } },
      });
      expect(expectStatus(run.tasks.q1, 'done').output).toEqual({
        answer: 'results for worker threads',
      });
      expect(expectStatus(run.tasks.q2, 'done').output).toEqual({ answer: 'results for piscina' });
      expect(calls.sort()).toEqual(['piscina', 'worker threads']);
      expect(run.tasks.bad?.error?.message).toContain('database is down');
      expect(run.tasks.missing?.error?.message).toContain(
        'no host service "nope" (registered: search, broken)',
      );
    });
  });
}
