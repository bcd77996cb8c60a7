import { createRuntime } from 'agentpool';
import { afterAll, describe, expect, it } from 'vitest';
import { expectStatus, fixture } from './helpers.js';

// Each about 5,000 tokens of text, held where JSON.stringify does not see it
// (it threw on a BigInt or a cycle: charged 0; a Map or Set: `{}`, 1 token).
const CONTAINERS = [
  'string',
  'bigint',
  'cycle',
  'map',
  'map-key',
  'set',
  'nested',
  'to-json',
  'error',
  'boxed',
  'key',
  'deep',
  'rewrite',
];

const runtime = createRuntime({ threads: 2, agents: { hidden: fixture('hidden-output') } });
afterAll(() => runtime.close());

function dag(limits?: { tokens: number }) {
  return Object.fromEntries(
    CONTAINERS.map((prompt) => [
      prompt,
      { agent: 'hidden', prompt, retries: 0, ...(limits && { limits }) },
    ]),
  );
}

describe('output tokens count what the output carries', () => {
  it('limits.tokens: every container of 5,000 tokens breaks a 1,000-token budget', async () => {
    const run = await runtime.execute(dag({ tokens: 1000 }));
    for (const id of CONTAINERS) {
      expect([id, expectStatus(run.tasks[id], 'failed').error.code]).toEqual([
        id,
        'ERR_TOKEN_BUDGET',
      ]);
    }
  });

  it('runTokens: no container gets 5,000 tokens past a 1,000-token run budget', async () => {
    for (const id of CONTAINERS) {
      const run = await runtime.execute(
        { [id]: { agent: 'hidden', prompt: id, retries: 0 } },
        { runTokens: 1000 },
      );
      expect([id, expectStatus(run.tasks[id], 'failed').error.code]).toEqual([
        id,
        'ERR_RUN_TOKEN_BUDGET',
      ]);
    }
  });

  // Keys are text the output carries too: the 500-node list pays for its 1,000 keys.
  it('within budget, each is charged at least its text', async () => {
    const run = await runtime.execute(dag({ tokens: 100_000 }));
    for (const id of CONTAINERS) {
      const tokens = expectStatus(run.tasks[id], 'done').tokens;
      expect([id, tokens >= 4_000 && tokens <= 30_000]).toEqual([id, true]);
    }
  });
});
