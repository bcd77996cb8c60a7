import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { compileDag } from '../dag/validate.js';
import { DagValidationError } from '../errors.js';
import { loadDagFile, modulePath } from './dag-file.js';

/**
 * `agentpool validate <dag>`: schema, cycles, unknown dependencies and
 * agents, and that every agent module exists. Prints each problem; returns
 * the problems found (none: the file is good).
 */
export async function validateCommand(path: string): Promise<string[]> {
  const file = await loadDagFile(path);
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(file.agents)) {
    const module = modulePath(spec);
    const filePath =
      module instanceof URL
        ? fileURLToPath(module)
        : module.startsWith('file:')
          ? fileURLToPath(module)
          : module;
    if (!existsSync(filePath))
      problems.push(`${path}: agents.${name}: module ${filePath} does not exist`);
  }
  try {
    compileDag(file.tasks, new Set(Object.keys(file.agents)));
  } catch (error) {
    if (!(error instanceof DagValidationError)) throw error;
    for (const issue of error.issues) {
      const hint =
        issue.code === 'ERR_UNKNOWN_AGENT'
          ? ' (declare it under `agents:`, or put it at agents/<name>.js next to the file)'
          : '';
      problems.push(`${path}: ${issue.code}: ${issue.message}${hint}`);
    }
  }
  return problems;
}
