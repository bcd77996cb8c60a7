import { checkDagFile } from './check-dag.js';
import type { ConfigChoice } from './dag-file.js';

/**
 * `agentpool validate <dag>`: the document's fields, every agent module
 * (it exists, loads and has an agent as its default export), and the tasks
 * (schema, unknown dependencies and agents, every cycle). Returns each
 * problem as a line naming the file (none: the file is good).
 */
export async function validateCommand(
  path: string,
  flags: { loadTimeout?: number; host?: string; config?: ConfigChoice } = {},
): Promise<string[]> {
  const { problems } = await checkDagFile(path, {
    load: true,
    host: flags.host,
    config: flags.config,
    ...(flags.loadTimeout !== undefined && { loadTimeoutMs: flags.loadTimeout }),
  });
  return problems;
}
