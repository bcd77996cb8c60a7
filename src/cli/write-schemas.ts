import { writeFileSync } from 'node:fs';
import { configJsonSchema, dagJsonSchema } from './dag-schema.js';

/**
 * Build step (`npm run build`): writes the JSON Schemas generated from the
 * zod schemas to the package root, where `agentpool/dag.schema.json` and
 * `agentpool/config.schema.json` point, so they never drift from what the
 * CLI accepts (test/dag-schema.test.ts compares them with a fresh generation).
 */
export function schemaFiles(): Record<string, string> {
  return {
    'dag.schema.json': `${JSON.stringify(dagJsonSchema(), null, 2)}\n`,
    'config.schema.json': `${JSON.stringify(configJsonSchema(), null, 2)}\n`,
  };
}

/** Writes `schemaFiles()` into the package root (the build script calls this). */
export function writeSchemaFiles(): void {
  for (const [name, text] of Object.entries(schemaFiles()))
    writeFileSync(new URL(`../../../${name}`, import.meta.url), text);
}
