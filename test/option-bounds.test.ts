import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime } from 'agentpool';
import { afterEach, describe, expect, it } from 'vitest';
import { agentpool } from './cli-helpers.js';
import { expectStatus, fixture } from './helpers.js';

// Node's longest timer; a longer delay is clamped to 1 ms.
const MAX_TIMER_MS = 2 ** 31 - 1;

const agents = { wait: fixture('wait-signal'), echo: fixture('echo') };

/** The TimeoutOverflowWarnings the main thread emits while `body` runs. */
async function overflowWarnings(body: () => Promise<void>): Promise<number> {
  let count = 0;
  const onWarning = (warning: Error) => {
    if (warning.name === 'TimeoutOverflowWarning') count++;
  };
  process.on('warning', onWarning);
  try {
    await body();
  } finally {
    process.off('warning', onWarning);
  }
  return count;
}

function rejection(body: () => unknown): { code: string; message: string } {
  try {
    body();
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error('expected it to throw');
}

const runtimes: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(runtimes.splice(0).map((runtime) => runtime.close()));
});
function runtime(options: Parameters<typeof createRuntime>[0]) {
  const made = createRuntime(options);
  runtimes.push(made);
  return made;
}

describe('time limits that Node timers cannot hold', () => {
  it.each([
    ['timeoutMs', 1e12],
    ['timeoutMs', MAX_TIMER_MS + 1],
    ['timeoutGraceMs', 2 ** 31],
    ['idleTimeoutMs', 1e12],
    ['threads', 1e9],
    ['inFlightPerThread', 1e9],
  ])('runtime option %s: %d is rejected, naming field and value', (field, value) => {
    const error = rejection(() => createRuntime({ [field]: value }));
    expect(error.code).toBe('ERR_INVALID_OPTIONS');
    expect(error.message).toContain(`${field}: expected`);
    expect(error.message).toContain(String(value));
  });

  it.each([
    ['backoffMs', 1e12],
    ['maxBackoffMs', 2 ** 31],
  ])('retry %s: %d is rejected', (field, value) => {
    const error = rejection(() => createRuntime({ retries: { [field]: value } }));
    expect(error.code).toBe('ERR_INVALID_OPTIONS');
    expect(error.message).toContain(`retries.${field}`);
    expect(error.message).toContain(String(value));
  });

  it('an agent or a task timeout past the longest timer is rejected, naming it', async () => {
    const agentError = rejection(() =>
      createRuntime({ agents: { wait: { module: agents.wait, timeoutMs: 1e12 } } }),
    );
    expect(agentError.code).toBe('ERR_INVALID_OPTIONS');
    expect(agentError.message).toContain('agents.wait.timeoutMs');
    expect(agentError.message).toContain('or 0 or Infinity for no time limit');
    const rt = runtime({ threads: 1, agents });
    await expect(
      rt.execute({ a: { agent: 'wait', prompt: '1', timeoutMs: 1e12 } }),
    ).rejects.toMatchObject({ message: expect.stringContaining('1000000000000') });
    await expect(rt.fanOut('wait', ['1'], { timeoutMs: 2 ** 40 })).rejects.toMatchObject({
      message: expect.stringContaining(String(2 ** 40)),
    });
  });

  // Before: a 24.8-day timeout and the 0/Infinity forms fired within ms
  // (ctx.signal aborted: ERR_TASK_TIMEOUT) or were rejected.
  it.each([
    ['the longest timer', MAX_TIMER_MS],
    ['Infinity (no limit)', Number.POSITIVE_INFINITY],
    ['0 (no limit)', 0],
  ])('timeoutMs %s: a task reading ctx.signal runs to its end', async (_, timeoutMs) => {
    const warnings = await overflowWarnings(async () => {
      const rt = runtime({ threads: 1, agents, timeoutMs, timeoutGraceMs: MAX_TIMER_MS });
      const run = await rt.execute({
        runtime: { agent: 'wait', prompt: '150' },
        task: { agent: 'wait', prompt: '150', timeoutMs },
      });
      expect(expectStatus(run.tasks.runtime, 'done').output).toEqual({ waited: 150 });
      expect(expectStatus(run.tasks.task, 'done').output).toEqual({ waited: 150 });
      await rt.close();
    });
    expect(warnings).toBe(0);
  });

  // A batch's watchdog waits timeout x prompts: 2 x the longest timer overflowed
  // (fired at 1 ms, re-armed, fired again: a flood of warnings).
  it('a batch whose total limit passes the longest timer keeps it', async () => {
    const warnings = await overflowWarnings(async () => {
      const rt = runtime({ threads: 1, agents });
      const results = await rt.fanOut('wait', ['100', '100'], {
        batch: 2,
        timeoutMs: MAX_TIMER_MS,
      });
      expect(results.map((r) => r.status)).toEqual(['done', 'done']);
      await rt.close();
    });
    expect(warnings).toBe(0);
  });

  it('a timeout still fires when it is set', async () => {
    const rt = runtime({ threads: 1, agents, timeoutMs: 50, timeoutGraceMs: MAX_TIMER_MS });
    const run = await rt.execute({ a: { agent: 'wait', prompt: '60000' } });
    expect(expectStatus(run.tasks.a, 'failed').error.code).toBe('ERR_TASK_TIMEOUT');
  });

  it('the deepest in-flight queue accepted works, and close() resolves', async () => {
    const rt = runtime({ threads: 2, agents, inFlightPerThread: 1024 });
    const run = await rt.execute(
      Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`t${i}`, { agent: 'echo' }])),
    );
    expect(Object.values(run.tasks).every((r) => r.status === 'done')).toBe(true);
    await rt.close();
  });

  it('a YAML DAG file says "no time limit" as .inf', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-bounds-'));
    const file = join(dir, 'dag.yaml');
    await writeFile(
      file,
      [
        'agents:',
        `  wait: ${JSON.stringify(fixture('wait-signal').pathname)}`,
        'defaults: { timeoutMs: .inf }',
        'tasks:',
        '  a: { agent: wait, prompt: "100" }',
        '  b: { agent: wait, prompt: "100", timeoutMs: .inf }',
      ].join('\n'),
    );
    const outcome = await agentpool(['run', file, '--threads', '1', '--format', 'json'], {
      timeout: 60_000,
    });
    expect(outcome.stderr).not.toContain('TimeoutOverflowWarning');
    expect(outcome.code).toBe(0);
    const tooLong = join(dir, 'too-long.yaml');
    await writeFile(
      tooLong,
      `agents: { wait: ${JSON.stringify(fixture('wait-signal').pathname)} }\ndefaults: { timeoutMs: 1e12 }\ntasks: { a: { agent: wait } }\n`,
    );
    const rejected = await agentpool(['validate', tooLong], { timeout: 60_000 });
    expect(rejected.code).toBe(2);
    expect(rejected.stderr + rejected.stdout).toContain('timeoutMs');
  });
});
