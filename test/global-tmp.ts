import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * vitest globalSetup: every temp folder the suite makes (its tests', and
 * those of the CLI, worker and Redis processes they spawn, which inherit
 * TMPDIR) goes under one folder of this run, removed when the run ends. A run
 * used to leave ~120 folders in /tmp.
 */
export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'agentpool-test-'));
  const before = process.env.TMPDIR;
  process.env.TMPDIR = dir;
  return () => {
    if (before === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = before;
    rmSync(dir, { recursive: true, force: true });
  };
}
