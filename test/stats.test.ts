import { createRuntime } from 'agentpool';
import { expect, it } from 'vitest';
import { fixture } from './helpers.js';

it("reports utilization from agentpool's own timestamps: attempts' thread time over threads x elapsed", async () => {
  const before = performance.timeOrigin + performance.now();
  const runtime = createRuntime({ threads: 2, agents: { sleep: fixture('sleep') } });
  try {
    const dag = Object.fromEntries(
      ['a', 'b', 'c', 'd'].map((id) => [id, { agent: 'sleep', prompt: '300' }]),
    );
    const run = await runtime.execute(dag);
    const stats = runtime.stats();
    const after = performance.timeOrigin + performance.now();
    const busy = Object.values(run.tasks).reduce((sum, task) => sum + task.durationMs, 0);
    // The runtime's window is inside this test's, so this is a lower bound
    // (piscina's own figure, which never sees agentpool's task time, was ~600x lower).
    const atLeast = busy / (2 * (after - before));
    expect(busy).toBeGreaterThanOrEqual(4 * 300);
    expect(stats.utilization).toBeGreaterThanOrEqual(atLeast);
    expect(stats.utilization).toBeLessThanOrEqual(1);
  } finally {
    await runtime.close();
  }
});
