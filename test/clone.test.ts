import { createRuntime } from 'agentpool';
import { describe, expect, it } from 'vitest';
import { expectStatus, fixture } from './helpers.js';

describe('an output crossing from its thread', () => {
  // Outputs used to travel as v8.serialize bytes: Node's DefaultSerializer
  // writes each typed array as a copy of its own bytes, so views that shared
  // an ArrayBuffer came back apart, each a view into the whole message.
  it('arrives as structured clone makes it: shared buffers stay shared, views keep their own buffer', async () => {
    const runtime = createRuntime({ threads: 1, agents: { t: fixture('clone-types') } });
    try {
      const run = await runtime.execute({ t: { agent: 't' } });
      const out = expectStatus(run.tasks.t, 'done').output as {
        self: unknown;
        views: [Uint8Array, Int32Array];
        view: DataView;
        big: bigint;
        map: Map<unknown, unknown>;
      };
      expect(out.self).toBe(out);
      const [bytes, ints] = out.views;
      expect(bytes).toBeInstanceOf(Uint8Array);
      expect(ints).toBeInstanceOf(Int32Array);
      expect(bytes.buffer).toBe(ints.buffer);
      expect(bytes.buffer.byteLength).toBe(8);
      expect(out.view.buffer.byteLength).toBe(4);
      expect(out.big).toBe(-(2n ** 70n));
      expect(out.map.get(1n)).toEqual(new Date(86_400_000));
    } finally {
      await runtime.close();
    }
  });
});
