import { createRuntime, OptionsError } from 'agentpool';
import { describe, expect, it } from 'vitest';
import { fixture } from './helpers.js';

// Checks written by hand (not zod's) say what they expected in zod's wording:
// `field: expected …, got <the value>`, with ERR_INVALID_OPTIONS.
function thrown(act: () => unknown): OptionsError {
  try {
    act();
  } catch (error) {
    expect(error).toBeInstanceOf(OptionsError);
    return error as OptionsError;
  }
  throw new Error('did not throw');
}

describe('hand-written option checks', () => {
  it('name the field and the value received, in the one wording', async () => {
    const runtime = createRuntime({ threads: 0, agents: { echo: fixture('echo') } });
    try {
      const on = runtime.on.bind(runtime) as (name: unknown, listener: unknown) => unknown;
      expect(thrown(() => on('tasks', () => {})).message).toBe(
        'event: expected "task", "progress" or "chunk", got "tasks"',
      );
      expect(thrown(() => on('task', 5)).message).toBe('listener: expected a function, got 5');
      const fanOut = runtime.fanOut.bind(runtime) as (...args: unknown[]) => Promise<unknown>;
      await expect(fanOut('echo', 'one prompt')).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTIONS',
        message: 'prompts: expected an array of strings, got "one prompt"',
      });
      await expect(fanOut('echo', ['a'], { batch: 1.5 })).rejects.toMatchObject({
        code: 'ERR_INVALID_OPTIONS',
        message: 'batch: expected an integer >= 1, got 1.5',
      });
    } finally {
      await runtime.close();
    }
  });
});
