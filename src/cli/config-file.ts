import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { AgentpoolError, DagFileError, describe } from '../shared/errors.js';
import {
  type DagDocument,
  dagDefaultsSchema,
  hostFieldSchema,
  optionalRuntimeShape,
  problemsOf,
} from './dag-document.js';
import { parseText } from './parse-text.js';
import { MAX_DAG_BYTES, readRegularText } from './read-text.js';
import { importFailure, importUserModule } from './user-module.js';

/** Looked for in this order in each folder, from the DAG file's upward; the first found is used. */
export const CONFIG_NAMES = [
  'agentpool.config.js',
  'agentpool.config.mjs',
  'agentpool.config.ts',
  'agentpool.config.json',
] as const;

/**
 * A config file's content: the runtime's options (`threads`, `runTokens`,
 * `encoding`, …), `host` (relative to the config file) and `defaults` (as
 * in a DAG file). A DAG file's own fields override it, flags override both.
 */
export const configSchema = z.strictObject({
  $schema: z.string().optional(),
  host: hostFieldSchema.optional(),
  defaults: dagDefaultsSchema.optional(),
  ...optionalRuntimeShape(),
});

/** What a config file contributes to a run. */
export interface ConfigFile {
  file: string;
  /** Absolute path of its host module, if it names one. */
  host?: string | undefined;
  /** Its `defaults` with its top-level runtime options over them. */
  defaults: DagDocument['defaults'];
}

/** The nearest config file at or above `dir`, or undefined. */
export function findConfigFile(dir: string): string | undefined {
  for (let at = resolve(dir); ; at = dirname(at)) {
    for (const name of CONFIG_NAMES) {
      const candidate = join(at, name);
      if (existsSync(candidate)) return candidate;
    }
    if (dirname(at) === at) return undefined;
  }
}

async function contentOf(file: string): Promise<unknown> {
  if (file.endsWith('.json')) {
    try {
      return parseText(file, await readRegularText(file, MAX_DAG_BYTES));
    } catch (cause) {
      const message =
        cause instanceof DagFileError ? cause.problems.join('; ') : importFailure(cause);
      throw new AgentpoolError('ERR_CONFIG_FILE', `${file}: ${message}`, { cause });
    }
  }
  let exports: Record<string, unknown>;
  try {
    exports = await importUserModule(file);
  } catch (cause) {
    throw new AgentpoolError('ERR_CONFIG_FILE', `${file}: does not load: ${importFailure(cause)}`, {
      cause,
    });
  }
  // `export default { threads: 2 }`; without a default export, its named exports.
  return 'default' in exports ? exports.default : exports;
}

/**
 * Reads a config file. Throws `ERR_CONFIG_FILE` with one line per problem,
 * each led by the file and naming the field and the value received.
 */
export async function readConfigFile(file: string): Promise<ConfigFile> {
  const raw = await contentOf(file);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new AgentpoolError(
      'ERR_CONFIG_FILE',
      `${file}: expected an object of options (threads, runTokens, host, encoding, defaults, …), got ${describe(raw)}`,
    );
  const problems = problemsOf('', configSchema, raw).map((line) => line.replace(/^: /, ''));
  if (problems.length > 0)
    throw new AgentpoolError(
      'ERR_CONFIG_FILE',
      problems.map((problem) => `${file}: ${problem}`).join('\n'),
    );
  const { $schema: _schema, host, defaults, ...runtime } = configSchema.parse(raw);
  return {
    file,
    ...(host !== undefined && { host: resolve(dirname(file), host) }),
    defaults: { ...defaults, ...runtime },
  };
}
