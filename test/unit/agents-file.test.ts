// `agentpool worker <file>`: the agents a worker offers, from a DAG
// document's `agents:` or from a file that is only that section.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readAgentsFile } from '../../src/cli/worker-command.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agentpool-agents-file-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

it('reads a file of just the agents section, module paths relative to the file', async () => {
  const file = join(dir, 'agents.yaml');
  await writeFile(
    file,
    'noop: ./agents/noop.js\nwait: /opt/agents/wait.js\ncapped: { module: ./capped.js, concurrency: 2 }\n',
  );
  const agents = await readAgentsFile(file);
  expect(agents).toEqual({
    noop: join(dir, 'agents/noop.js'),
    wait: '/opt/agents/wait.js',
    capped: expect.objectContaining({ module: join(dir, 'capped.js'), concurrency: 2 }),
  });
});

it("reads a DAG document's agents", async () => {
  const file = join(dir, 'dag.yaml');
  await writeFile(file, 'agents:\n  noop: ./noop.js\ntasks:\n  a: { agent: noop }\n');
  expect(await readAgentsFile(file)).toEqual({ noop: join(dir, 'noop.js') });
});

it('names the file and the agent of a bad entry', async () => {
  const file = join(dir, 'agents.yaml');
  await writeFile(file, 'noop: 42\n');
  await expect(readAgentsFile(file)).rejects.toMatchObject({
    code: 'ERR_DAG_FILE',
    message: expect.stringMatching(/agents\.yaml.*noop/s),
  });
});
