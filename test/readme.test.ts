import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
// Inside the package, so `agentpool` resolves to this package as it would for a user.
const dir = fileURLToPath(new URL('./.readme-example/', import.meta.url));

afterAll(() => rm(dir, { recursive: true, force: true }));

it('runs the README library example as written', async () => {
  const readme = await readFile(`${root}/README.md`, 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  // The Library section's agent, by its name: other sections' examples come before it.
  const agent = blocks.find((b) => b.startsWith('// agents/researcher.js'));
  const main = blocks.find((b) => b.includes('createRuntime'));
  expect(agent).toBeDefined();
  expect(main).toBeDefined();
  await mkdir(`${dir}/agents`, { recursive: true });
  for (const name of ['researcher', 'writer', 'reviewer', 'translator']) {
    await writeFile(`${dir}/agents/${name}.js`, agent as string);
  }
  await writeFile(`${dir}/main.js`, main as string);
  const { stdout } = await promisify(execFile)(process.execPath, ['main.js'], {
    cwd: dir,
    timeout: 20_000,
  });
  expect(stdout).toContain('4 0 { summary:');
  expect(stdout).toMatch(/review done/);
  expect(stdout).toContain('threads: 4');
});
