import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentpool, root } from './cli-helpers.js';

async function dagFile(text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'agentpool-options-'));
  const file = join(dir, 'dag.yaml');
  await writeFile(file, text);
  return file;
}

const tokens = join(root, 'test/fixtures/tokens.js');

describe('runtime options in the DAG file', () => {
  it('takes threads, runTokens, countTokens and encoding from `defaults`, flags over them', async () => {
    const file = await dagFile(
      [
        `agents: { tokens: ${JSON.stringify(tokens)} }`,
        'defaults: { threads: 1, runTokens: 100, countTokens: true, encoding: cl100k_base, retries: 0 }',
        'context: { consume: 80 }',
        'tasks:',
        '  a: { agent: tokens, prompt: one }',
        '  b: { agent: tokens, prompt: two }',
        '',
      ].join('\n'),
    );
    const capped = await agentpool(['run', file, '--format', 'json']);
    expect(capped.stderr).toBe('');
    const run = JSON.parse(capped.stdout);
    expect(run.tokenBudget).toBe(100);
    // One task's 80 tokens fit the run's 100, the other's do not.
    expect([run.tasks.a.status, run.tasks.b.status].sort()).toEqual(['done', 'failed']);
    const refused = run.tasks.a.status === 'done' ? run.tasks.b : run.tasks.a;
    expect(refused.error.code).toBe('ERR_RUN_TOKEN_BUDGET');
    expect(capped.code).toBe(1);

    const flag = await agentpool(['run', file, '--format', 'json', '--run-tokens', '1000']);
    expect(flag.code).toBe(0);
    expect(JSON.parse(flag.stdout)).toMatchObject({ tokenBudget: 1000, done: 2 });
  });

  it('reports a bad runtime option in `defaults` like any field, with did-you-mean', async () => {
    const file = await dagFile(
      'defaults: { threads: -1, encoding: utf8 }\ntasks:\n  a: { agent: x }\n',
    );
    const result = await agentpool(['validate', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('defaults.threads: expected a number >= 0, got -1');
    expect(result.stderr).toContain('defaults.encoding: expected one of "o200k_base"');
    const typo = await dagFile('defaults: { runToken: 5 }\ntasks:\n  a: { agent: x }\n');
    expect((await agentpool(['validate', typo])).stderr).toContain(
      'defaults: unknown field `runToken` (did you mean `runTokens`?)',
    );
    const flag = await agentpool(['run', file, '--run-tokens', 'lots']);
    expect(flag.code).toBe(2);
  });
});

describe('CLI errors', () => {
  it('a bad flag prints one line naming it and where the help is, not the whole help', async () => {
    const unknown = await agentpool(['run', 'dag.yaml', '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("agentpool: unknown option '--bogus' (see agentpool run --help)\n");
    const value = await agentpool(['validate', 'dag.yaml', '--load-timeout', 'x']);
    expect(value.stderr.trim().split('\n')).toHaveLength(1);
    expect(value.stderr).toMatch(
      /^agentpool: .*--load-timeout must be an integer >= 1, got "x" \(see agentpool validate --help\)\n$/,
    );
  });

  it('starts every error line with the same prefix', async () => {
    const file = await dagFile('defaults: { retries: -1 }\ntasks:\n  a: { agent: nowhere }\n');
    for (const command of ['run', 'validate']) {
      const result = await agentpool([command, file]);
      expect(result.code).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines.length).toBeGreaterThan(1);
      for (const line of lines) expect(line).toMatch(new RegExp(`^agentpool: ${file}: `));
    }
  });
});

describe('one wording for every schema message', () => {
  it('says what was expected and the value received, in the document, the tasks and retries.on alike', async () => {
    const file = await dagFile(
      [
        'defaults: { limits: { tokens: 1.5 }, retries: { on: [ERR_TASK_TIMOUT, E_RATE_LIMIT] } }',
        'tasks:',
        '  c: { agent: x, limits: { tokens: 1.5 } }',
        '  d: { agent: x, prompt: 5, retries: { on: [ERR_CPU_LIMT] } }',
        '',
      ].join('\n'),
    );
    const result = await agentpool(['validate', file]);
    expect(result.code).toBe(2);
    const lines = result.stderr.trim().split('\n');
    for (const line of [
      'defaults.limits.tokens: expected an integer, got 1.5',
      // An agent's own code (E_RATE_LIMIT) is fine; a typo of agentpool's is not.
      'defaults.retries.on[0]: unknown error code `ERR_TASK_TIMOUT` (did you mean `ERR_TASK_TIMEOUT`?)',
      'ERR_DAG_INVALID: tasks.c.limits.tokens: expected an integer, got 1.5',
      'ERR_DAG_INVALID: tasks.d.prompt: expected a string, got 5',
      'ERR_DAG_INVALID: tasks.d.retries.on[0]: unknown error code `ERR_CPU_LIMT` (did you mean `ERR_CPU_LIMIT`?)',
    ])
      expect(lines).toContain(`agentpool: ${file}: ${line}`);
    expect(result.stderr).not.toMatch(/received|expected int\b|Invalid input/);
  });
});
