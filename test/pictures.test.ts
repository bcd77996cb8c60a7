import { join } from 'node:path';
import {
  createRuntime,
  DagValidationError,
  loadDagFile,
  renderChromeTrace,
  renderTimeline,
} from 'agentpool';
import { describe, expect, it } from 'vitest';
import { dags } from './cli-helpers.js';

describe('the CLI’s pictures from the library', () => {
  it('loads a DAG file, runs it, and renders its timeline and Chrome trace from the RunResult', async () => {
    const file = await loadDagFile(join(dags, 'dag.yaml'));
    const runtime = createRuntime({ threads: 2, agents: file.agents });
    try {
      const run = await runtime.execute(file.tasks as Parameters<typeof runtime.execute>[0], {
        context: file.context,
      });
      expect(run.done).toBe(4);
      const html = renderTimeline(run, file.tasks, { title: 'library run' });
      expect(html).toMatch(/<svg [^>]*><title>Timeline of library run/);
      for (const id of Object.keys(run.tasks)) expect(html).toContain(`data-task="${id}"`);
      expect(html).toContain('outlined: critical path (research →');
      const trace = renderChromeTrace(run) as { traceEvents: { ph: string; name: string }[] };
      expect(
        trace.traceEvents
          .filter((e) => e.ph === 'X')
          .map((e) => e.name)
          .sort(),
      ).toEqual(Object.keys(run.tasks).sort());
      expect(() => renderTimeline(run, { a: { agent: 'x', depends_on: ['a'] } })).toThrow(
        DagValidationError,
      );
    } finally {
      await runtime.close();
    }
  });

  it('loadDagFile throws ERR_DAG_FILE naming the file and field', async () => {
    await expect(loadDagFile(join(dags, 'typo.yaml'))).rejects.toMatchObject({
      code: 'ERR_DAG_FILE',
      message: expect.stringContaining('typo.yaml: '),
    });
  });
});
