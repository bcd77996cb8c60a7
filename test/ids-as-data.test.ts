import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRuntime, type TaskResult } from 'agentpool';
import { describe, expect, it } from 'vitest';
import { agentpool } from './cli-helpers.js';
import { fixture } from './helpers.js';

// Keys that mean something to a plain object: as ids and context keys they are only data.
const IDS = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf'] as const;

/**
 * A DAG over those ids, as JSON.parse makes it (an own `__proto__` key, which
 * an object literal cannot write): a chain through them, each task with a
 * context of the same keys, and `final` depending on every one.
 */
function dagText(): string {
  const tasks = IDS.map((id, k) => {
    const deps = k === 0 ? '' : `, "depends_on": [${JSON.stringify(IDS[k - 1])}]`;
    const context = `{ "__proto__": ${JSON.stringify(`own ${id}`)}, "constructor": ${k} }`;
    return `${JSON.stringify(id)}: { "agent": "echo", "prompt": ${JSON.stringify(id)}, "context": ${context}${deps} }`;
  });
  tasks.push(`"final": { "agent": "echo", "depends_on": ${JSON.stringify(IDS)} }`);
  return `{ ${tasks.join(', ')} }`;
}
const CONTEXT = '{ "__proto__": "run", "toString": "run", "hasOwnProperty": 1 }';

interface Echoed {
  prompt: string;
  taskId: string;
  context: Record<string, unknown>;
  deps: Record<string, Echoed>;
  depStatus: Record<string, string>;
}

function own(value: object): string[] {
  return Object.getOwnPropertyNames(value).sort();
}

/** What every run over `dagText()` must show, whatever ran it. */
function checkRun(tasks: Record<string, TaskResult>): void {
  expect(own(tasks)).toEqual([...IDS, 'final'].sort());
  for (const [k, id] of IDS.entries()) {
    const result = tasks[id] as TaskResult;
    expect(Object.hasOwn(tasks, id)).toBe(true);
    expect(result.id).toBe(id);
    expect(result.status).toBe('done');
    const output = (result as { output: Echoed }).output;
    expect(output.taskId).toBe(id);
    // The task's context over the run's, key by key, `__proto__` included.
    expect(own(output.context)).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
    expect(Object.getOwnPropertyDescriptor(output.context, '__proto__')?.value).toBe(`own ${id}`);
    expect(output.context.constructor).toBe(k);
    expect(output.context.toString).toBe('run');
    if (k > 0) {
      const before = IDS[k - 1] as string;
      expect(own(output.deps)).toEqual([before]);
      expect(Object.getOwnPropertyDescriptor(output.deps, before)?.value.taskId).toBe(before);
      expect(Object.getOwnPropertyDescriptor(output.depStatus, before)?.value).toBe('done');
    }
  }
  const final = (tasks.final as { output: Echoed }).output;
  expect(own(final.deps)).toEqual([...IDS].sort());
  expect(own(final.depStatus)).toEqual([...IDS].sort());
  for (const id of IDS) {
    expect(Object.getOwnPropertyDescriptor(final.deps, id)?.value.prompt).toBe(id);
    expect(Object.getOwnPropertyDescriptor(final.depStatus, id)?.value).toBe('done');
  }
  // Nothing leaked into the prototypes every object shares.
  expect(({} as Record<string, unknown>).own).toBeUndefined();
  expect(Object.getPrototypeOf({})).toBe(Object.prototype);
}

describe('task ids and context keys are data', () => {
  it.each([2, 0])(
    'ids %s threads: ctx.deps, depStatus, results, events and context keep every key',
    async (threads) => {
      const runtime = createRuntime({ threads, agents: { echo: fixture('echo') } });
      const seen: string[] = [];
      runtime.on('task', (event) => {
        if (event.type === 'done') seen.push(event.id);
      });
      const run = await runtime.execute(JSON.parse(dagText()), { context: JSON.parse(CONTEXT) });
      checkRun(run.tasks);
      expect(seen.sort()).toEqual([...IDS, 'final'].sort());
      const streamed: string[] = [];
      for await (const result of runtime.stream(JSON.parse(dagText()), {
        context: JSON.parse(CONTEXT),
      }))
        streamed.push(result.id);
      expect(streamed.sort()).toEqual([...IDS, 'final'].sort());
      await runtime.close();
    },
  );

  it('the cache keys them apart: a second run comes from the cache, each task its own output', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-ids-cache-'));
    const runtime = createRuntime({
      threads: 2,
      agents: { echo: fixture('echo') },
      cache: { dir },
    });
    const first = await runtime.execute(JSON.parse(dagText()), { context: JSON.parse(CONTEXT) });
    checkRun(first.tasks);
    const cached: string[] = [];
    runtime.on('task', (event) => {
      if (event.type === 'cached') cached.push(event.id);
    });
    const second = await runtime.execute(JSON.parse(dagText()), { context: JSON.parse(CONTEXT) });
    checkRun(second.tasks);
    expect(cached.sort()).toEqual([...IDS, 'final'].sort());
    await runtime.close();
  });

  it('the CLI runs them, and its JSON results and --out keep every id', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-ids-'));
    const file = join(dir, 'dag.json');
    await writeFile(
      file,
      `{ "agents": { "echo": ${JSON.stringify(fixture('echo').pathname)} }, "context": ${CONTEXT}, "tasks": ${dagText()} }`,
    );
    const out = join(dir, 'results.json');
    const outcome = await agentpool(
      ['run', file, '--threads', '2', '--format', 'json', '--out', out],
      { timeout: 60_000 },
    );
    expect(outcome.stderr).toBe('');
    expect(outcome.code).toBe(0);
    checkRun(JSON.parse(outcome.stdout).tasks);
    checkRun(JSON.parse(await readFile(out, 'utf8')).tasks);
    const validated = await agentpool(['validate', file]);
    expect(validated.code).toBe(0);
  });

  it('agent names: constructor, toString, hasOwnProperty run; __proto__ is refused, naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'agentpool-agent-names-'));
    const echo = JSON.stringify(fixture('echo').pathname);
    const names = ['constructor', 'toString', 'hasOwnProperty'];
    const file = join(dir, 'dag.json');
    await writeFile(
      file,
      JSON.stringify({
        agents: Object.fromEntries(names.map((name) => [name, JSON.parse(echo)])),
        tasks: Object.fromEntries(
          names.map((name) => [`t_${name}`, { agent: name, prompt: name }]),
        ),
      }),
    );
    const ran = await agentpool(['run', file, '--no-cache', '--format', 'json'], {
      timeout: 60_000,
    });
    expect(ran.code).toBe(0);
    const tasks = JSON.parse(ran.stdout).tasks;
    for (const name of names)
      expect(tasks[`t_${name}`]).toMatchObject({ status: 'done', output: { prompt: name } });

    const proto = join(dir, 'proto.json');
    await writeFile(
      proto,
      `{ "agents": { "__proto__": ${echo} }, "tasks": { "a": { "agent": "__proto__", "prompt": "x" } } }`,
    );
    for (const command of ['run', 'validate']) {
      const refused = await agentpool([command, proto]);
      expect(refused.code).toBe(2);
      // The field, not a misleading "agent is not registered".
      expect(refused.stderr).toContain('agents.__proto__: an agent cannot be named `__proto__`');
      expect(refused.stderr).not.toContain('ERR_UNKNOWN_AGENT');
    }
  });
});
