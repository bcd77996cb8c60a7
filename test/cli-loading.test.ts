import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { agentpool, dags, userProject } from './cli-helpers.js';

// An agent as the README writes it, with a helper of its own and a CommonJS
// helper next to it, in a project `npm init -y` made.
const agentFiles = {
  'agents/shout.js': [
    "import { defineAgent } from 'agentpool/agent';",
    "import { loud } from './loud.js';",
    "import legacy from './legacy.cjs.js';",
    'export default defineAgent((prompt, ctx) => ({ text: loud(prompt), legacy: legacy.name, task: ctx.taskId }));',
    '',
  ].join('\n'),
  'agents/loud.js': "export const loud = (text) => text.toUpperCase() + '!';\n",
  // Written as CommonJS in a .js file: it must stay CommonJS.
  'agents/legacy.cjs.js':
    "module.exports = { name: typeof require === 'function' ? 'cjs' : 'esm' };\n",
  'dag.yaml': 'tasks:\n  hello: { agent: shout, prompt: hello }\n',
};

describe('loading .js agents', () => {
  for (const type of ['commonjs', undefined] as const) {
    it(`loads import/export .js agents as ES modules in a package with ${type ? `"type": "${type}"` : 'no type field'}, without warnings`, async () => {
      const dir = await userProject(type, agentFiles);
      const validate = await agentpool(['validate', join(dir, 'dag.yaml')]);
      expect(validate.stderr).toBe('');
      expect(validate.code).toBe(0);
      for (const threads of ['2', '0']) {
        const run = await agentpool([
          'run',
          join(dir, 'dag.yaml'),
          '--format',
          'json',
          '--threads',
          threads,
        ]);
        // No MODULE_TYPELESS_PACKAGE_JSON or "To load an ES module" warning in the user's output.
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        expect(JSON.parse(run.stdout).tasks.hello).toMatchObject({
          status: 'done',
          output: { text: 'HELLO!', legacy: 'cjs', task: 'hello' },
        });
      }
    });
  }

  it('a module that calls process.exit while loading is ERR_AGENT_LOAD in run as in validate', async () => {
    const file = join(dags, 'unloadable.yaml');
    const validate = await agentpool(['validate', file]);
    expect(validate.code).toBe(2);
    expect(validate.stderr).toMatch(
      /agents\.quitter: ERR_AGENT_LOAD: cannot load module \S+exits-on-load\.js: it called process\.exit\(3\) while loading/,
    );
    const dir = await userProject('module', {
      'agents/quitter.js': 'process.exit(3);\n',
      'agents/fine.js': 'export default (prompt) => prompt;\n',
      'dag.yaml': 'tasks:\n  q: { agent: quitter }\n  f: { agent: fine, prompt: ok }\n',
    });
    for (const threads of ['1', '0']) {
      const run = await agentpool([
        'run',
        join(dir, 'dag.yaml'),
        '--format',
        'json',
        '-t',
        threads,
      ]);
      // Bad input, as validate says: exit 2 (the results are still printed and written).
      expect(run.code).toBe(2);
      const result = JSON.parse(run.stdout);
      expect(result.tasks.q).toMatchObject({
        status: 'failed',
        attempts: 1,
        error: { code: 'ERR_AGENT_LOAD' },
      });
      expect(result.tasks.q.error.message).toContain('it called process.exit(3) while loading');
      // The thread survived it: the other task ran (on it, with one thread).
      expect(result.tasks.f).toMatchObject({ status: 'done', output: 'ok' });
    }
  });
});

describe('validate --load-timeout', () => {
  it('reports a module still loading after the given time, and accepts one that loads in time', async () => {
    const dir = await userProject('module', {
      // Top-level await: loading takes about 1.5 s.
      'agents/slow.js':
        'await new Promise((resolve) => setTimeout(resolve, 1500));\nexport default (prompt) => prompt;\n',
      'dag.yaml': 'tasks:\n  s: { agent: slow }\n',
    });
    const short = await agentpool(['validate', join(dir, 'dag.yaml'), '--load-timeout', '200']);
    expect(short.code).toBe(2);
    expect(short.stderr).toContain(
      'agent slow: ERR_AGENT_LOAD: did not finish loading within 200 ms (validate --load-timeout)',
    );
    const long = await agentpool(['validate', join(dir, 'dag.yaml'), '--load-timeout', '20000']);
    expect(long.stderr).toBe('');
    expect(long.code).toBe(0);
    const bad = await agentpool(['validate', join(dir, 'dag.yaml'), '--load-timeout', 'soon']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--load-timeout must be an integer >= 1, got "soon"');
  });
});

describe('agent paths that are no module (issue 11 item 9)', () => {
  it('get one answer from run and validate: exit 2 naming the agent, before anything runs', async () => {
    const dir = await userProject('module', {
      'notes.txt': 'hello\n',
      'agents/folder/index.js': 'export default (prompt) => prompt;\n',
      'dag.yaml':
        'agents: { text: ./notes.txt, dir: ./agents/folder }\ntasks:\n  x: { agent: text }\n  y: { agent: dir }\n',
    });
    for (const command of ['run', 'validate']) {
      const result = await agentpool(
        [command, join(dir, 'dag.yaml'), '--format', 'ndjson'].slice(0, command === 'run' ? 4 : 2),
      );
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringMatching(
          /dag\.yaml: agents\.text: ERR_AGENT_LOAD: module \S+notes\.txt is not a JavaScript or TypeScript module \(\.js, \.mjs, \.cjs, \.ts, \.mts, \.cts\)$/,
        ),
        expect.stringMatching(
          /dag\.yaml: agents\.dir: ERR_AGENT_LOAD: module \S+folder is a directory, not a module$/,
        ),
      ]);
    }
  });
});
