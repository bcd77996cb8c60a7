import { z } from 'zod';
import { dagSchema } from '../dag/schema.js';
import { agentSpecSchema } from '../options.js';
import { configSchema } from './config-file.js';
import { dagDefaultsSchema, hostFieldSchema } from './dag-document.js';

/**
 * A DAG file in its document form, as one zod schema: the source of the
 * shipped JSON Schema (`agentpool/dag.schema.json`). Reading a file does
 * not parse with it (`readDocument` checks field by field, so one bad
 * field does not hide the others); `test/dag-schema.test.ts` keeps the two
 * agreeing on what is accepted.
 */
export const dagDocumentSchema = z.strictObject({
  $schema: z.string().optional().meta({
    description: 'The JSON Schema an editor checks this file with; agentpool does not read it.',
  }),
  host: hostFieldSchema.optional().meta({
    description:
      'Host services module, relative to this file: its exported functions are what agents call as `await ctx.host.name(...)`.',
  }),
  agents: z.record(z.string().min(1), agentSpecSchema).optional().meta({
    description:
      'Agent name to module path (relative to this file), or { module, concurrency, retries, timeoutMs, limits, version, cache }.',
  }),
  defaults: dagDefaultsSchema.optional().meta({
    description:
      "Settings of every task (retries, timeoutMs, limits) and the runtime's options (threads, runTokens, countTokens, encoding, ...); flags override them.",
  }),
  context: z
    .record(z.string(), z.unknown())
    .optional()
    .meta({ description: 'Context every task sees as ctx.context (under its own).' }),
  tasks: dagSchema.meta({ description: 'Task id to task.' }),
});

/**
 * A zod schema as JSON Schema (draft 2020-12) for editors: what one
 * writes (`io: 'input'`: fields with defaults are optional). A module given
 * as a `URL` object is the library's alone (a file holds strings), so it
 * is left out rather than written as "anything".
 */
function toJsonSchema(schema: z.ZodType, id: string, title: string): Record<string, unknown> {
  const json = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      const def = (ctx.zodSchema as { _zod: { def: { type: string } } })._zod.def;
      if (def.type === 'custom') ctx.jsonSchema.not = {};
    },
  });
  return { ...json, $id: id, title };
}

/** The JSON Schema of a DAG file (`dag.schema.json` in the package). */
export function dagJsonSchema(): Record<string, unknown> {
  return toJsonSchema(
    dagDocumentSchema,
    'https://unpkg.com/agentpool/dag.schema.json',
    'agentpool DAG file',
  );
}

/** The JSON Schema of `agentpool.config.json` (`config.schema.json` in the package). */
export function configJsonSchema(): Record<string, unknown> {
  return toJsonSchema(
    configSchema,
    'https://unpkg.com/agentpool/config.schema.json',
    'agentpool config file',
  );
}
