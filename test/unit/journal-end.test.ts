// Write-ahead terminal entries: with a journal, a task's end (its event, and
// every event after it, and the run's result) is announced only once its
// entry is written; the run goes on meanwhile.
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import type { TaskResult } from '../../src/results.js';
import { harness } from './fake-executor.js';

beforeEach(() => {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
  });
});
afterEach(() => {
  vi.useRealTimers();
});

function journal() {
  const written: TaskResult[] = [];
  const pending = new Map<string, () => void>();
  return {
    written,
    write: (result: TaskResult) => {
      written.push(result);
      return new Promise<void>((resolve) => pending.set(result.id, resolve));
    },
    /** Redis acknowledges task `id`'s entry. */
    ack: (id: string) => pending.get(id)?.(),
  };
}

it('announces a task end only after its terminal entry is written, the events after it in order', async () => {
  const j = journal();
  const h = harness(
    {
      a: { agent: 'x', prompt: '' },
      b: { agent: 'x', prompt: '', depends_on: ['a'] },
    },
    { journalEnd: j.write },
  );
  h.run.start();
  h.executor.last('a').reply({ ok: true, output: 'A' });
  await h.settle();
  // Journaled, and b already dispatched; but nothing of it announced yet.
  expect(j.written.map((r) => [r.id, r.status])).toEqual([['a', 'done']]);
  expect(h.executor.order()).toEqual(['a', 'b']);
  expect(h.eventsOf('a')).not.toContain('done');
  expect(h.eventsOf('b')).toEqual([]);
  j.ack('a');
  await h.settle();
  const types = h.events.map((e) => `${e.id}:${e.type}`);
  expect(types.indexOf('a:done')).toBeGreaterThan(-1);
  expect(types.indexOf('a:done')).toBeLessThan(types.indexOf('b:queued'));
  h.executor.last('b').reply({ ok: true });
  await h.settle();
  expect(j.written.map((r) => r.id)).toEqual(['a', 'b']);
  expect(h.eventsOf('b')).not.toContain('done');
  expect(h.result()).toBeUndefined();
  j.ack('b');
  await h.settle();
  expect(h.eventsOf('b')).toContain('done');
  expect(h.result()).toMatchObject({ done: 2, total: 2 });
});

it('journals tasks that never ran (skipped, cancelled) as they end', async () => {
  const j = journal();
  const controller = new AbortController();
  const h = harness(
    {
      a: { agent: 'x', prompt: '' },
      b: { agent: 'x', prompt: '', depends_on: ['a'] },
      d: { agent: 'x', prompt: '' },
      e: { agent: 'x', prompt: '', depends_on: ['d'] },
    },
    { threads: 2, journalEnd: j.write, retry: { max: 0 }, signal: controller.signal },
  );
  h.run.start();
  expect(h.executor.order().sort()).toEqual(['a', 'd']);
  h.executor.last('a').reply({ ok: false, code: 'ERR_TASK_FAILED' });
  await h.settle();
  controller.abort();
  await h.settle();
  expect(new Map(j.written.map((r) => [r.id, r.status]))).toEqual(
    new Map([
      ['a', 'failed'],
      ['b', 'skipped'],
      ['d', 'cancelled'],
      ['e', 'cancelled'],
    ]),
  );
  expect(j.written).toHaveLength(4);
  expect(h.result()).toBeUndefined();
  for (const id of ['a', 'b', 'd', 'e']) j.ack(id);
  await h.settle();
  expect(h.result()).toMatchObject({ failed: 1, skipped: 1, cancelled: 2 });
});
