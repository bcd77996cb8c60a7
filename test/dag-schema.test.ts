import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { dagDocumentSchema } from '../dist/src/cli/dag-schema.js';
import { schemaFiles } from '../dist/src/cli/write-schemas.js';
import { agentpool, root, userProject } from './cli-helpers.js';

describe('the JSON Schema of the DAG file', () => {
  it('is what the build generates from the zod schemas, and the package exports it', async () => {
    for (const [name, text] of Object.entries(schemaFiles()))
      expect(readFileSync(join(root, name), 'utf8')).toBe(text);
    const dir = await userProject('commonjs', {});
    const resolve = createRequire(join(dir, 'index.js')).resolve;
    const schema = JSON.parse(readFileSync(resolve('agentpool/dag.schema.json'), 'utf8'));
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(['tasks']);
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining(['$schema', 'host', 'agents', 'defaults', 'context', 'tasks']),
    );
    const task = schema.properties.tasks.additionalProperties;
    expect(task.required).toEqual(['agent']);
    expect(task.properties.trigger.enum).toContain('one_failed');
    // The runtime's options are there too, with their bounds.
    expect(schema.properties.defaults.properties.runTokens).toMatchObject({
      type: 'integer',
      minimum: 0,
    });
    const config = JSON.parse(readFileSync(resolve('agentpool/config.schema.json'), 'utf8'));
    expect(Object.keys(config.properties)).toEqual(
      expect.arrayContaining(['host', 'threads', 'runTokens', 'encoding', 'defaults']),
    );
  });

  it('accepts what the CLI accepts: the bundled example, with $schema', async () => {
    const file = join(root, 'examples/research/dag.yaml');
    const document = parse(readFileSync(file, 'utf8'));
    expect(dagDocumentSchema.safeParse(document).success).toBe(true);
    const typo = { ...document, tasks: { a: { agent: 'x', timeout: 5 } } };
    expect(dagDocumentSchema.safeParse(typo).success).toBe(false);
    const dir = await userProject('module', {
      'agents/echo.js': 'export default (prompt) => prompt;\n',
      'dag.yaml':
        '$schema: ./node_modules/agentpool/dag.schema.json\ntasks:\n  a: { agent: echo, prompt: hi }\n',
    });
    const validate = await agentpool(['validate', join(dir, 'dag.yaml')]);
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
  });
});
