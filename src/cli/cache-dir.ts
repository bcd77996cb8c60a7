import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The CLI's cache directory: `--cache-dir`, else `.agentpool/` next to the DAG file (or in the working directory). */
export function cacheDir(flag: string | undefined, dagPath: string | undefined): string {
  return flag ?? join(dagPath === undefined ? '.' : dirname(dagPath), '.agentpool');
}

/**
 * Creates the directory if missing, with a `.gitignore` of `*` in it, so a
 * project's cache is never committed by accident (as pytest does with its
 * own cache directory).
 */
export function ensureCacheDir(dir: string): void {
  if (existsSync(dir)) return;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, '.gitignore'), '# the agentpool task cache: not source\n*\n');
}
