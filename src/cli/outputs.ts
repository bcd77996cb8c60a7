import { constants } from 'node:fs';
import { access, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { OptionsError } from '../shared/errors.js';

/** The files a run writes when it ends, by the flag that names each. */
export type OutputFlag = '--out' | '--report' | '--trace';
export type OutputPaths = Partial<Record<OutputFlag, string>>;

async function problemOf(path: string): Promise<string | undefined> {
  const file = resolve(path);
  const found = await stat(file).catch(() => undefined);
  if (found?.isDirectory()) return 'is a directory';
  if (found && !found.isFile()) return 'is not a regular file';
  if (found) {
    return access(file, constants.W_OK).then(
      () => undefined,
      (error: NodeJS.ErrnoException) => `cannot be written (${error.code})`,
    );
  }
  const dir = dirname(file);
  const parent = await stat(dir).catch(() => undefined);
  if (!parent) return `its folder ${dir} does not exist`;
  if (!parent.isDirectory()) return `${dir} is not a folder`;
  return access(dir, constants.W_OK | constants.X_OK).then(
    () => undefined,
    (error: NodeJS.ErrnoException) => `its folder ${dir} cannot be written (${error.code})`,
  );
}

/**
 * Checks, before anything runs, that every output file can be written: its
 * folder exists, it is not a directory, two flags do not name one file.
 * Throws `OptionsError` (exit 2) naming each flag and path that cannot;
 * nothing is created.
 */
export async function checkOutputPaths(paths: OutputPaths): Promise<void> {
  const problems: string[] = [];
  const seen = new Map<string, OutputFlag>();
  for (const [flag, path] of Object.entries(paths) as [OutputFlag, string | undefined][]) {
    if (path === undefined) continue;
    const same = seen.get(resolve(path));
    if (same) problems.push(`${flag} ${path}: the same file as ${same}`);
    seen.set(resolve(path), flag);
    const problem = await problemOf(path);
    if (problem) problems.push(`${flag} ${path}: ${problem}`);
  }
  if (problems.length > 0) throw new OptionsError(problems.join('\n'));
}

/**
 * Writes each output that has a path, each whatever happened to the
 * others, and returns one line per file that could not be written
 * (`--report t.html: EACCES: permission denied, …`).
 */
export async function writeOutputs(
  paths: OutputPaths,
  contents: Record<OutputFlag, () => string>,
): Promise<string[]> {
  const failures: string[] = [];
  for (const [flag, path] of Object.entries(paths) as [OutputFlag, string | undefined][]) {
    if (path === undefined) continue;
    try {
      await writeFile(path, contents[flag]());
    } catch (error) {
      failures.push(`${flag} ${path}: not written: ${(error as Error).message}`);
    }
  }
  return failures;
}
