import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type Runtime } from 'agentpool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectStatus, fixture } from './helpers.js';

const KINDS = [
  'function-name',
  'symbol-message',
  'object-message',
  'throwing-code',
  'throwing-stack',
  'proxy',
  'revoked-proxy',
  'null-prototype',
];

describe('strange things thrown', () => {
  let runtime: Runtime;
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(join(tmpdir(), 'agentpool-strange-'));
    runtime = createRuntime({ threads: 2, retries: 0, agents: { strange: fixture('strange') } });
  });
  afterAll(async () => {
    await runtime.close();
    rmSync(folder, { recursive: true, force: true });
  });

  it('fail their task alone with ERR_TASK_FAILED and string fields, after one run each', async () => {
    const log = join(folder, 'runs.log');
    const dag = Object.fromEntries(
      KINDS.map((kind) => [kind, { agent: 'strange', context: { kind, log } }]),
    );
    const run = await runtime.execute(dag);
    for (const kind of KINDS) {
      const task = expectStatus(run.tasks[kind], 'failed');
      expect(task.error.code, kind).toBe('ERR_TASK_FAILED');
      expect(typeof task.error.message, kind).toBe('string');
      expect(typeof task.error.name, kind).toBe('string');
      expect(task.attempts, kind).toBe(1);
    }
    expect(run.tasks['symbol-message']?.error?.message).toBe('Symbol(s)');
    expect(run.tasks['object-message']?.error?.message).toBe('{"deep":1}');
    expect(run.tasks['function-name']?.error?.message).toBe('boom');
    // The thread did not die posting the reply, so nothing ran twice unseen.
    const runs = readFileSync(log, 'utf8').trim().split('\n').sort();
    expect(runs).toEqual([...KINDS].sort());
  });

  it('in the caller’s own DAG, context or options are coded errors', async () => {
    const throwing = {
      get x(): never {
        throw new Error('getter');
      },
    };
    await expect(
      runtime.execute({ a: { agent: 'strange', context: throwing } }),
    ).rejects.toMatchObject({
      code: 'ERR_DAG_INVALID',
      message: expect.stringContaining('tasks.a'),
    });
    await expect(
      runtime.execute({ a: { agent: 'strange' } }, { context: throwing }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_OPTIONS' });
    const keys = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('keys');
        },
      },
    );
    await expect(runtime.execute(keys)).rejects.toMatchObject({ code: 'ERR_DAG_INVALID' });
    expect(() =>
      createRuntime({
        get threads(): never {
          throw new Error('getter');
        },
      }),
    ).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }));
  });
});
