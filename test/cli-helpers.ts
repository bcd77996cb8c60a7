import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const cli = join(root, 'dist/src/cli/main.js');
export const dags = join(root, 'test/fixtures/cli');

export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI in a child process and waits for it to end. */
export function agentpool(
  args: string[],
  options: { timeout?: number; cwd?: string; env?: NodeJS.ProcessEnv; cache?: boolean } = {},
): Promise<Outcome> {
  // These tests are about runs that execute: a result cached by an earlier test would hide them
  // (`cache: true` for a test about the cache, which then gives its own --cache-dir).
  const fresh = args[0] === 'run' && !options.cache ? ['--no-cache'] : [];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [cli, ...args, ...fresh],
      {
        cwd: options.cwd ?? root,
        timeout: options.timeout ?? 30_000,
        env: options.env ?? process.env,
      },
      (error, stdout, stderr) => {
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          signal: (error?.signal as NodeJS.Signals | undefined) ?? null,
          stdout,
          stderr,
        });
      },
    );
  });
}

/**
 * A user's project in a temporary folder, as `npm init -y` and `npm install
 * agentpool` leave it: a package.json (with the given `type`, or none) and
 * agentpool in node_modules. `files` are written relative to it.
 */
export async function userProject(
  type: 'commonjs' | 'module' | undefined,
  files: Record<string, string>,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'agentpool-user-'));
  const pkg = { name: 'user-project', version: '1.0.0', ...(type && { type }) };
  await writeFile(join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  await mkdir(join(dir, 'node_modules'));
  await symlink(root, join(dir, 'node_modules/agentpool'), 'dir');
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(dir, name, '..'), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}
