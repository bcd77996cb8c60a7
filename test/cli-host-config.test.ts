import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentpool, root, userProject } from './cli-helpers.js';

const tokens = join(root, 'test/fixtures/tokens.js');
const hostUser = join(root, 'test/fixtures/host-user.js');

describe('host module', { timeout: 120_000 }, () => {
  it("a DAG file's `host:` (relative to the file) gives agents its exports as ctx.host, --host over it", async () => {
    const dir = await userProject('commonjs', {
      // import/export in a "type": "commonjs" project, as `npm init -y` makes it.
      'dags/services/host.js': "export async function search(q) { return 'file:' + q; }\n",
      'other-host.ts':
        "const search = async (q: string): Promise<string> => 'flag:' + q;\nexport default { search };\n",
      'dags/dag.yaml': [
        '$schema: ../node_modules/agentpool/dag.schema.json',
        'host: ./services/host.js',
        `agents: { user: ${JSON.stringify(hostUser)} }`,
        'tasks:',
        '  a: { agent: user, prompt: hi }',
        '',
      ].join('\n'),
    });
    const file = join(dir, 'dags/dag.yaml');
    const validate = await agentpool(['validate', file]);
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    const run = await agentpool(['run', file, '--format', 'json']);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout).tasks.a.output).toEqual({ answer: 'file:hi' });
    // `--host` is relative to the working directory, like every flag's path.
    const flag = await agentpool(['run', file, '--format', 'json', '--host', 'other-host.ts'], {
      cwd: dir,
    });
    expect(flag.stderr).toBe('');
    expect(JSON.parse(flag.stdout).tasks.a.output).toEqual({ answer: 'flag:hi' });
  });

  it('a missing or bad host module is ERR_HOST_MODULE before anything runs, naming the file', async () => {
    const dir = await userProject('module', {
      'constants.js': "export const search = 'not a function';\n",
      'throws.js': "throw new Error('no API key');\n",
      'dag.yaml': `host: ./nowhere.js\nagents: { user: ${JSON.stringify(hostUser)} }\ntasks:\n  a: { agent: user }\n`,
    });
    const file = join(dir, 'dag.yaml');
    for (const command of ['run', 'validate']) {
      const missing = await agentpool([command, file]);
      expect(missing.code).toBe(2);
      expect(missing.stdout).toBe('');
      expect(missing.stderr).toContain(
        `agentpool: ${file}: host: ERR_HOST_MODULE: host module ${join(dir, 'nowhere.js')} does not exist`,
      );
    }
    const notFunction = await agentpool(['run', file, '--host', join(dir, 'constants.js')]);
    expect(notFunction.code).toBe(2);
    expect(notFunction.stderr).toContain('--host: ERR_HOST_MODULE: host module /');
    expect(notFunction.stderr).toContain('not `search` ("not a function")');
    const throws = await agentpool(['validate', file, '--host', join(dir, 'throws.js')]);
    expect(throws.code).toBe(2);
    expect(throws.stderr).toMatch(
      /--host: ERR_HOST_MODULE: host module \S+throws\.js does not load: no API key/,
    );
  });
});

describe('config file', { timeout: 120_000 }, () => {
  const dag = (defaults: string) =>
    [
      `agents: { tokens: ${JSON.stringify(tokens)} }`,
      ...(defaults ? [`defaults: { ${defaults} }`] : []),
      'tasks:',
      '  a: { agent: tokens, prompt: one }',
      '',
    ].join('\n');

  it('is found upward from the DAG file; the DAG document overrides it, flags override both', async () => {
    const dir = await userProject('module', {
      'agentpool.config.json': JSON.stringify({
        runTokens: 1000,
        defaults: { retries: 0, limits: { tokens: 50 } },
      }),
      'a/b/plain.yaml': dag(''),
      'a/b/own.yaml': dag('runTokens: 2000, limits: { tokens: 60 }'),
    });
    const fromConfig = await agentpool(['run', join(dir, 'a/b/plain.yaml'), '--format', 'json']);
    expect(fromConfig.stderr).toBe('');
    const plain = JSON.parse(fromConfig.stdout);
    expect(plain.tokenBudget).toBe(1000);
    expect(plain.tasks.a.output.limit).toBe(50);

    const own = JSON.parse(
      (await agentpool(['run', join(dir, 'a/b/own.yaml'), '--format', 'json'])).stdout,
    );
    expect(own.tokenBudget).toBe(2000);
    expect(own.tasks.a.output.limit).toBe(60);

    const flagged = await agentpool([
      'run',
      join(dir, 'a/b/own.yaml'),
      '--format',
      'json',
      '--run-tokens',
      '3000',
    ]);
    expect(JSON.parse(flagged.stdout).tokenBudget).toBe(3000);
  });

  it('--config FILE reads that file instead of the nearest, --no-config reads none', async () => {
    const dir = await userProject('module', {
      'agentpool.config.json': JSON.stringify({ runTokens: 1000 }),
      'elsewhere/team.config.json': JSON.stringify({ runTokens: 4000 }),
      'dag.yaml': dag(''),
    });
    const run = async (...flags: string[]) =>
      JSON.parse(
        (await agentpool(['run', join(dir, 'dag.yaml'), '--format', 'json', ...flags])).stdout,
      );
    expect((await run()).tokenBudget).toBe(1000);
    expect((await run('--config', join(dir, 'elsewhere/team.config.json'))).tokenBudget).toBe(4000);
    expect((await run('--no-config')).tokenBudget).toBeNull();
    // A wrong config file is not read when none is asked for.
    const bad = await userProject('module', {
      'agentpool.config.json': JSON.stringify({ thread: 2 }),
      'dag.yaml': dag(''),
    });
    for (const command of ['validate', 'graph'])
      expect((await agentpool([command, join(bad, 'dag.yaml'), '--no-config'])).code).toBe(0);
    const missing = await agentpool([
      'run',
      join(dir, 'dag.yaml'),
      '--config',
      join(dir, 'nope.json'),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(join(dir, 'nope.json'));
  });

  it('may be TypeScript, and names a host module relative to itself', async () => {
    const dir = await userProject('commonjs', {
      'agentpool.config.ts':
        "const config: { runTokens: number; host: string } = { runTokens: 7, host: './lib/host.ts' };\nexport default config;\n",
      'lib/host.ts': "export const search = (q: string): string => 'config:' + q;\n",
      'dags/dag.yaml': `agents: { user: ${JSON.stringify(hostUser)} }\ntasks:\n  a: { agent: user, prompt: x }\n`,
    });
    const run = await agentpool(['run', join(dir, 'dags/dag.yaml'), '--format', 'json']);
    expect(run.stderr).toBe('');
    const result = JSON.parse(run.stdout);
    expect(result.tokenBudget).toBe(7);
    expect(result.tasks.a.output).toEqual({ answer: 'config:x' });
  });

  it('a wrong config file is ERR_CONFIG_FILE, one line per field, with did-you-mean', async () => {
    const dir = await userProject('module', {
      'agentpool.config.mjs': 'export default { thread: 2, runTokens: 1.5 };\n',
      'dag.yaml': dag(''),
    });
    for (const command of ['run', 'validate']) {
      const result = await agentpool([command, join(dir, 'dag.yaml')]);
      expect(result.code).toBe(2);
      const config = join(dir, 'agentpool.config.mjs');
      expect(result.stderr.trim().split('\n').sort()).toEqual([
        `agentpool: ${config}: runTokens: expected an integer, got 1.5`,
        `agentpool: ${config}: unknown field \`thread\` (did you mean \`threads\`?)`,
      ]);
    }
  });
});
