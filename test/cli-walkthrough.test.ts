import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { agentpool, root, userProject } from './cli-helpers.js';

/** The README's walkthrough: its files, from the code blocks that name them, and its expected output. */
function walkthrough() {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const start = readme.indexOf('## Your first agent and dag.yaml');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 3));
  const blocks = [...section.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map(([, lang, body]) => ({
    lang: lang as string,
    body: body as string,
  }));
  const files: Record<string, string> = {};
  for (const { lang, body } of blocks) {
    const named = /^\/\/ (agents\/\S+\.js):/.exec(body);
    if (lang === 'js' && named) files[named[1] as string] = body;
    if (lang === 'yaml') files['dag.yaml'] = body;
  }
  const output = blocks.find((block) => block.lang === 'text')?.body ?? '';
  return { files, output };
}

it('runs the README walkthrough as written: a project npm init -y made, two agents, dag.yaml', {
  timeout: 60_000,
}, async () => {
  const { files, output } = walkthrough();
  expect(Object.keys(files).sort()).toEqual(['agents/total.js', 'agents/words.js', 'dag.yaml']);
  // `npm init -y` on npm 11 writes "type": "commonjs".
  const dir = await userProject('commonjs', files);
  const validate = await agentpool(['validate', 'dag.yaml'], { cwd: dir });
  expect(validate.stderr).toBe('');
  expect(`$ npx agentpool validate dag.yaml\n${validate.stdout}`).toBe(
    output.slice(0, output.indexOf('$ npx agentpool run')),
  );
  const run = await agentpool(['run', 'dag.yaml', '--report', 'timeline.html'], { cwd: dir });
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(existsSync(join(dir, 'timeline.html'))).toBe(true);
  // The README's lines, with what varies (times, thread ids, which of two ends first) left out.
  const vary = (text: string) =>
    text
      .split('\n')
      .filter((line) => line && line !== '…' && !line.startsWith('$') && !line.includes('slowest'))
      .map((line) => line.replace(/\d+(\.\d+)? (ms|s)\b/g, 'T').replace(/thread \d+/, 'thread N'))
      .map((line) => line.replace(/^\[\d\/3\]/, '[k/3]')); // first and second end in either order
  const expected = vary(output.slice(output.indexOf('[1/3]')));
  const got = vary(run.stdout);
  for (const line of expected) expect(got).toContain(line);
});
