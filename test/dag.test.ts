import { type DagInput, DagValidationError, validateDag } from 'agentpool';
import { describe, expect, it } from 'vitest';

function rejection(dag: unknown, agents?: string[]): DagValidationError {
  try {
    validateDag(dag as DagInput, agents);
  } catch (error) {
    expect(error).toBeInstanceOf(DagValidationError);
    return error as DagValidationError;
  }
  throw new Error('expected the DAG to be rejected');
}

const example = {
  research: { agent: 'researcher', prompt: 'Research topic X' },
  draft: { agent: 'writer', prompt: 'Draft it', depends_on: ['research'] },
  review: { agent: 'reviewer', prompt: 'Review the draft', depends_on: ['draft'] },
  translate: { agent: 'translator', prompt: 'Translate', depends_on: ['draft'] },
};

describe('validateDag', () => {
  it('accepts the reference executor format, with depends_on or dependsOn', () => {
    expect(() => validateDag(example)).not.toThrow();
    expect(() =>
      validateDag({ a: { agent: 'x' }, b: { agent: 'x', dependsOn: ['a'] } }),
    ).not.toThrow();
    expect(() => validateDag({})).not.toThrow();
  });

  it('names a two-task cycle as a path', () => {
    const error = rejection({
      research: { agent: 'r', depends_on: ['draft'] },
      draft: { agent: 'w', depends_on: ['research'] },
    });
    expect(error.code).toBe('ERR_DAG_CYCLE');
    expect(error.issues[0]?.taskIds).toEqual(['research', 'draft', 'research']);
    expect(error.message).toContain('research -> draft -> research');
  });

  it('names a longer cycle in run order, ignoring tasks outside it', () => {
    const error = rejection({
      root: { agent: 'x' },
      a: { agent: 'x', depends_on: ['root', 'c'] },
      b: { agent: 'x', depends_on: ['a'] },
      c: { agent: 'x', depends_on: ['b'] },
      tail: { agent: 'x', depends_on: ['c'] },
    });
    expect(error.code).toBe('ERR_DAG_CYCLE');
    const path = error.issues[0]?.taskIds ?? [];
    expect(path[0]).toBe(path.at(-1));
    expect(new Set(path)).toEqual(new Set(['a', 'b', 'c']));
    // Each task depends on the one before it.
    for (let k = 1; k < path.length; k++) {
      const task = { a: ['root', 'c'], b: ['a'], c: ['b'] }[path[k] as 'a' | 'b' | 'c'];
      expect(task).toContain(path[k - 1]);
    }
  });

  it('treats a self-dependency as a cycle', () => {
    const error = rejection({ a: { agent: 'x', depends_on: ['a'] } });
    expect(error.code).toBe('ERR_DAG_CYCLE');
    expect(error.message).toContain('cycle: a -> a (a depends on itself)');
    expect(error.taskIds).toEqual(['a']);
  });

  it('rejects an unknown dependency and suggests the closest id', () => {
    const error = rejection({
      research: { agent: 'r' },
      draft: { agent: 'w', depends_on: ['reserch'] },
    });
    expect(error.code).toBe('ERR_DAG_UNKNOWN_DEPENDENCY');
    expect(error.message).toContain(
      'draft depends on "reserch", which is not a task (did you mean "research"?)',
    );
    expect(error.issues[0]?.path).toEqual(['tasks', 'draft', 'depends_on', 0]);
    expect(error.taskIds).toEqual(['draft']);
  });

  it('does not suggest an id that is not close', () => {
    const error = rejection({
      research: { agent: 'r' },
      draft: { agent: 'w', depends_on: ['zzz'] },
    });
    expect(error.message).not.toContain('did you mean');
  });

  it('rejects an unregistered agent, naming the task and the registered agents', () => {
    const error = rejection({ a: { agent: 'writr' } }, ['writer', 'reviewer']);
    expect(error.code).toBe('ERR_UNKNOWN_AGENT');
    expect(error.message).toContain('a uses agent "writr"');
    expect(error.message).toContain('did you mean "writer"');
    expect(error.taskIds).toEqual(['a']);
  });

  it('reports schema problems with their path', () => {
    const error = rejection({ draft: { agent: 'w', depends_on: [42] } });
    expect(error.code).toBe('ERR_DAG_INVALID');
    expect(error.message).toContain('tasks.draft.depends_on[0]: expected a string, got 42');
    expect(error.issues[0]?.path).toEqual(['tasks', 'draft', 'depends_on', 0]);
  });

  it('rejects unknown fields instead of ignoring them', () => {
    const error = rejection({ a: { agent: 'x', dependencies: ['b'] } });
    expect(error.code).toBe('ERR_DAG_INVALID');
    expect(error.message).toContain('tasks.a: unknown field `dependencies`');
  });

  it('rejects a missing agent, bad timeouts, triggers and both dependency spellings', () => {
    const error = rejection({
      a: { prompt: 'x' },
      b: { agent: 'x', timeoutMs: -5 },
      c: { agent: 'x', trigger: 'sometimes' },
      d: { agent: 'x', depends_on: [], dependsOn: [] },
    });
    expect(error.issues.map((issue) => issue.taskIds[0])).toEqual(['a', 'b', 'c', 'd']);
    expect(error.message).toContain('tasks.a.agent');
    expect(error.message).toContain('tasks.b.timeoutMs');
    expect(error.message).toContain('tasks.c.trigger');
    expect(error.message).toContain('not both');
  });

  it('rejects a DAG that is not a map of tasks', () => {
    expect(rejection([{ agent: 'x' }]).message).toContain('got an array');
    expect(rejection(null).code).toBe('ERR_DAG_INVALID');
  });

  it('lists every problem, not just the first', () => {
    const error = rejection(
      { a: { agent: 'nope', depends_on: ['missing'] }, b: { agent: 'x', depends_on: ['b'] } },
      ['x'],
    );
    expect(error.issues.map((issue) => issue.code)).toEqual([
      'ERR_DAG_CYCLE',
      'ERR_DAG_UNKNOWN_DEPENDENCY',
      'ERR_UNKNOWN_AGENT',
    ]);
  });

  it('checks the structure of tasks with schema errors too, schema errors first', () => {
    const error = rejection(
      {
        a: { agent: 'x', depends_on: ['reserch'], timeout: 5 },
        b: { agent: 'writer', depends_on: ['a', 7] },
        c: 'not a task',
        d: { agent: 'x', depends_on: ['c'] },
      },
      ['x'],
    );
    // The code is the schema's, as it was before the structure was checked alongside.
    expect(error.code).toBe('ERR_DAG_INVALID');
    expect(error.issues.map((issue) => [issue.code, issue.taskIds[0]])).toEqual([
      ['ERR_DAG_INVALID', 'a'],
      ['ERR_DAG_INVALID', 'b'],
      ['ERR_DAG_INVALID', 'c'],
      ['ERR_DAG_UNKNOWN_DEPENDENCY', 'a'],
      ['ERR_UNKNOWN_AGENT', 'b'],
    ]);
  });

  it('reports each independent cycle once, not the tasks behind them', () => {
    const error = rejection({
      a: { agent: 'x', depends_on: ['b'] },
      b: { agent: 'x', depends_on: ['a'] },
      behind: { agent: 'x', depends_on: ['a', 'self'] },
      self: { agent: 'x', depends_on: ['self'] },
      c: { agent: 'x', depends_on: ['e'] },
      d: { agent: 'x', depends_on: ['c'] },
      e: { agent: 'x', depends_on: ['d', 'c'] },
    });
    expect(error.code).toBe('ERR_DAG_CYCLE');
    expect(error.issues.map((issue) => issue.taskIds)).toEqual([
      ['a', 'b', 'a'],
      ['self', 'self'],
      ['c', 'd', 'e', 'c'],
    ]);
  });

  it('validates a 100,000-task DAG without overflowing the stack', () => {
    const dag: DagInput = {};
    for (let i = 0; i < 100_000; i++)
      dag[`t${i}`] = { agent: 'x', depends_on: i === 0 ? [] : [`t${i - 1}`] };
    expect(() => validateDag(dag, ['x'])).not.toThrow();
    (dag.t0 as { depends_on: string[] }).depends_on = ['t99999'];
    expect(rejection(dag).issues[0]?.taskIds).toHaveLength(100_001);
  });
});
