// How a wave of short attempts is cut into packs (pure functions, no Redis).
import { expect, it } from 'vitest';
import { PACK_MAX } from '../../src/cluster/job.js';
import { type Gathered, packSize, packWave } from '../../src/cluster/packs.js';
import { RemoteSubmission } from '../../src/cluster/remote-submission.js';
import type { TaskRequest } from '../../src/shared/protocol.js';

it('spreads what is in flight over every job slot, between one and PACK_MAX a pack', () => {
  // A few ready with little out: one or two each, so every thread gets some.
  expect(packSize(3, 0, 8)).toBe(1);
  expect(packSize(10, 0, 8)).toBe(2);
  // A wave of a few while many are out: as large as the rest.
  expect(packSize(5, 635, 16)).toBe(40);
  // A large wave: full packs.
  expect(packSize(5_000, 0, 16)).toBe(PACK_MAX);
  // No worker announced yet: one slot.
  expect(packSize(10, 0, 0)).toBe(10);
});

function gathered(n: number): Gathered[] {
  return Array.from({ length: n }, (_, i) => {
    const request = { runId: 'r', taskId: `t${i}`, attempt: 1 } as TaskRequest;
    const submission = new RemoteSubmission(
      { cancel: () => {}, release: () => {} },
      `a-${i}`,
      request,
    );
    const data = { taskId: `t${i}` } as never;
    return { submission, job: { id: `a-${i}`, name: `t${i}`, data, priority: 10 + i } };
  });
}

it('cuts a wave, in rank order, into consecutive packs; a run of one goes alone', () => {
  const wave = gathered(7);
  const jobs = packWave(wave, 3);
  expect(jobs.map((j) => j.id.slice(0, 2))).toEqual(['p-', 'p-', 'a-']);
  const [first, second, last] = jobs;
  // A pack's priority is its best-ranked member's; its data is its members', in order.
  expect(first?.priority).toBe(10);
  expect(second?.priority).toBe(13);
  const members = (first?.data as { pack: { taskId: string }[] } | undefined)?.pack;
  expect(members?.map((a) => a.taskId)).toEqual(['t0', 't1', 't2']);
  expect(wave.map((g) => g.submission.pack?.index)).toEqual([0, 1, 2, 0, 1, 2, undefined]);
  expect(wave[4]?.submission.pack?.pack.job).toBe(second);
  // The one left over is a job of its own, kept by its submission (the sweep may add it again).
  expect(last).toBe(wave[6]?.job);
  expect(wave[6]?.submission.job).toBe(last);
});
