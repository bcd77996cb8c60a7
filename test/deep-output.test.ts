import { createRuntime } from 'agentpool';
import { describe, expect, it } from 'vitest';
import { expectStatus, fixture } from './helpers.js';

describe('an output nested deeper than the main thread can decode', () => {
  // A worker's stack (4 MB) serializes a 5,000-node list; the main thread's
  // (~1 MB) overflowed decoding it: an unhandled rejection, and the run never ended.
  it('fails its own task alone with ERR_OUTPUT_NOT_CLONEABLE', async () => {
    const runtime = createRuntime({
      threads: 1,
      retries: 0,
      agents: { nested: fixture('nested') },
    });
    try {
      const run = await runtime.execute({
        deep: { agent: 'nested', context: { depth: 5_000 } },
        after: { agent: 'nested', context: { depth: 2 }, depends_on: ['deep'] },
        shallow: { agent: 'nested', context: { depth: 3 } },
      });
      const deep = expectStatus(run.tasks.deep, 'failed');
      expect(deep.error.code).toBe('ERR_OUTPUT_NOT_CLONEABLE');
      expect(deep.error.message).toContain('nested too deeply');
      expect(expectStatus(run.tasks.after, 'skipped').error.code).toBe('ERR_UPSTREAM_FAILED');
      expect(expectStatus(run.tasks.shallow, 'done').output).toEqual({
        next: { next: { next: null } },
      });
    } finally {
      await runtime.close();
    }
  });
});
