import { describe, expect, it } from 'vitest';
import { stableHash } from '../src/cache/hash.js';
import { cacheKey, type KeyInput } from '../src/cache/key.js';
import { rerunSet } from '../src/cache/rerun.js';
import { parseDuration, parseSize } from '../src/cli/cache-command.js';
import { buildGraph } from '../src/dag/graph.js';
import { decodeValue, encodeValue } from '../src/shared/clone.js';

describe('stableHash', () => {
  it('ignores the key order of plain objects, at any depth', () => {
    expect(stableHash({ a: 1, b: { c: [1, { d: 2, e: 3 }], f: null } })).toBe(
      stableHash({ b: { f: null, c: [1, { e: 3, d: 2 }] }, a: 1 }),
    );
  });

  it('tells apart values that JSON or loose equality would confuse', () => {
    const holey = new Array(2);
    holey[1] = 1;
    const values: unknown[] = [
      undefined,
      null,
      0,
      -0,
      Number.NaN,
      '0',
      0n,
      false,
      '',
      [],
      {},
      [undefined],
      holey,
      [null, 1],
      new Map(),
      new Set(),
      new Map([['a', 1]]),
      { a: 1 },
      new Set(['a']),
      ['a'],
      new Date(0),
      new Date(1),
      /a/g,
      /a/i,
      new Uint8Array([1, 2]),
      new Int8Array([1, 2]),
      new Uint8Array([1, 2]).buffer,
      new DataView(new Uint8Array([1, 2]).buffer),
      new Error('x'),
      new TypeError('x'),
      new String('s'),
      's',
      { a: 'b' },
      { ab: '' },
      ['ab', ''],
      ['a', 'b'],
    ];
    const hashes = values.map(stableHash);
    expect(new Set(hashes).size).toBe(values.length);
  });

  it('hashes equal values equally, NaN included, and keeps Map and Set order', () => {
    expect(stableHash(Number.NaN)).toBe(stableHash(0 / 0));
    expect(stableHash(new Map([[1n, new Date(5)]]))).toBe(stableHash(new Map([[1n, new Date(5)]])));
    expect(stableHash(new Float64Array([1.5]))).toBe(stableHash(new Float64Array([1.5])));
    expect(stableHash(new Set([1, 2]))).not.toBe(stableHash(new Set([2, 1])));
    expect(
      stableHash(
        new Map([
          [1, 1],
          [2, 2],
        ]),
      ),
    ).not.toBe(
      stableHash(
        new Map([
          [2, 2],
          [1, 1],
        ]),
      ),
    );
  });

  it('hashes cycles and shared references by shape, and typed arrays by their view only', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = a;
    const b: Record<string, unknown> = { x: 1 };
    b.self = b;
    expect(stableHash(a)).toBe(stableHash(b));
    const shared = { v: 1 };
    expect(stableHash([shared, shared])).not.toBe(stableHash([{ v: 1 }, { v: 1 }]));
    const bytes = new Uint8Array([9, 1, 2, 9]);
    expect(stableHash(bytes.subarray(1, 3))).toBe(stableHash(new Uint8Array([1, 2])));
  });

  it('refuses what structured clone refuses', () => {
    expect(() => stableHash({ f: () => 1 })).toThrow(/function/);
    expect(() => stableHash(Symbol('s'))).toThrow(/symbol/);
  });
});

describe('cacheKey', () => {
  const base: KeyInput = {
    agent: 'writer',
    source: 'src-hash',
    version: undefined,
    registered: undefined,
    prompt: 'Draft it',
    context: stableHash({ topic: 'x' }),
    deps: [
      ['research', 'h1'],
      ['outline', 'h2'],
    ],
    depStatus: [
      ['research', 'done'],
      ['outline', 'done'],
    ],
    encoding: 'o200k_base',
    tokenLimit: undefined,
  };

  it('does not depend on the order dependencies are listed in', () => {
    expect(
      cacheKey({
        ...base,
        deps: [...base.deps].reverse(),
        depStatus: [...base.depStatus].reverse(),
      }),
    ).toBe(cacheKey(base));
  });

  it('changes with every input it covers', () => {
    const variants: Partial<KeyInput>[] = [
      { agent: 'editor' },
      { source: 'other-source' },
      { version: '2' },
      { registered: 'model-b' },
      { prompt: 'Draft it!' },
      { context: stableHash({ topic: 'y' }) },
      { deps: [['research', 'h1']] },
      {
        deps: [
          ['research', 'h1'],
          ['outline', 'h3'],
        ],
      },
      {
        depStatus: [
          ['research', 'done'],
          ['outline', 'failed'],
        ],
      },
      { encoding: 'cl100k_base' },
      { tokenLimit: 1000 },
    ];
    const keys = variants.map((variant) => cacheKey({ ...base, ...variant }));
    expect(new Set([cacheKey(base), ...keys]).size).toBe(variants.length + 1);
  });

  it('keeps fields apart: moving text between prompt and agent changes the key', () => {
    expect(cacheKey({ ...base, agent: 'ab', prompt: 'c' })).not.toBe(
      cacheKey({ ...base, agent: 'a', prompt: 'bc' }),
    );
  });
});

describe('encodeValue / decodeValue', () => {
  it('round-trips as structured clone does: views keep their buffer, and sharing', () => {
    const buffer = new Uint8Array([9, 8, 7, 6]).buffer;
    const value = {
      view: new DataView(buffer, 1, 2),
      all: new Uint8Array(buffer),
      b: Buffer.from('hi'),
    };
    const back = decodeValue(encodeValue(value)) as typeof value;
    expect(back.view.buffer).toBe(back.all.buffer);
    expect(back.view.byteOffset).toBe(1);
    expect([...back.all]).toEqual([9, 8, 7, 6]);
    expect(back).toEqual(structuredClone(value));
  });

  it('throws for bytes it did not write', () => {
    expect(() => decodeValue(Buffer.from([0xff, 0x0f, 0x6f, 0x7b]))).toThrow();
  });
});

describe('rerunSet', () => {
  const built = buildGraph([
    ['research', { dependsOn: [] }],
    ['draft_1', { dependsOn: ['research'] }],
    ['draft_2', { dependsOn: ['research'] }],
    ['review', { dependsOn: ['draft_1', 'draft_2'] }],
    ['other', { dependsOn: [] }],
  ]);
  const graph = built.graph as NonNullable<typeof built.graph>;
  const named = (marks: Uint8Array) => graph.ids.filter((_, i) => marks[i] === 1);

  it('marks the named tasks and everything downstream of them', () => {
    expect(named(rerunSet(graph as never, ['draft_1']))).toEqual(['draft_1', 'review']);
    expect(named(rerunSet(graph as never, ['research']))).toEqual([
      'research',
      'draft_1',
      'draft_2',
      'review',
    ]);
    expect(named(rerunSet(graph as never, ['draft_?', 'oth*']))).toEqual([
      'draft_1',
      'draft_2',
      'review',
      'other',
    ]);
  });

  it('takes glob characters only as globs', () => {
    expect(() => rerunSet(graph as never, ['draft.1'])).toThrow(/"draft\.1"`, which matches none/);
  });
});

describe('cache command arguments', () => {
  it('reads ages and sizes with their units', () => {
    expect(parseDuration('7d')).toBe(7 * 86_400_000);
    expect(parseDuration('1.5h')).toBe(5_400_000);
    expect(parseSize('1GB')).toBe(1e9);
    expect(parseSize('512MiB')).toBe(512 * 1024 ** 2);
    expect(parseSize('4096')).toBe(4096);
    expect(() => parseDuration('7 days')).toThrow(/--older-than.*"7 days"/);
    expect(() => parseSize('1 parsec')).toThrow(/--max-size.*"1 parsec"/);
  });
});
