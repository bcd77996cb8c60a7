// The layer rule of the engine: the main thread (src/) and the worker threads
// (workers/) meet only in src/shared/, which imports neither. Read from the
// sources' import specifiers, so a new crossing fails here before review.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './cli-helpers.js';

type Layer = 'shared' | 'main' | 'workers';

/** Which layers a file of each layer may import from (relative specifiers only; packages are free). */
const ALLOWED: Record<Layer, readonly Layer[]> = {
  shared: ['shared'],
  main: ['main', 'shared'],
  workers: ['workers', 'shared'],
};

function layerOf(path: string): Layer | null {
  const rel = relative(root, path).split('\\').join('/');
  if (rel.startsWith('src/shared/')) return 'shared';
  if (rel.startsWith('src/')) return 'main';
  if (rel.startsWith('workers/')) return 'workers';
  return null;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(c|m)?ts$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name));
}

// `import … from 'x'`, `export … from 'x'`, `import 'x'`, `import('x')`, `require('x')`.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"]+)['"]/g;

function relativeImports(file: string): string[] {
  // Comments are not imports (JSDoc examples import from the user's own files).
  const text = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  return [...text.matchAll(SPECIFIER)].map((m) => m[1] ?? '').filter((s) => s.startsWith('.'));
}

interface Crossing {
  file: string;
  imports: string;
}

function crossings(): { checked: number; bad: Crossing[] } {
  const bad: Crossing[] = [];
  let checked = 0;
  for (const file of [...sources(join(root, 'src')), ...sources(join(root, 'workers'))]) {
    const from = layerOf(file);
    if (from === null) continue;
    for (const spec of relativeImports(file)) {
      checked += 1;
      const to = layerOf(resolve(dirname(file), spec));
      if (to === null || !ALLOWED[from].includes(to)) {
        bad.push({ file: relative(root, file), imports: spec });
      }
    }
  }
  return { checked, bad };
}

describe('layers', () => {
  it('src/ and workers/ import each other only through src/shared/, which imports neither', () => {
    const { checked, bad } = crossings();
    // The scan itself must see the imports it judges (hundreds of them).
    expect(checked).toBeGreaterThan(200);
    expect(bad).toEqual([]);
  });

  it('the scan catches a crossing in each direction', () => {
    expect(layerOf(resolve(root, 'workers', '../src/results.js'))).toBe('main');
    expect(ALLOWED.workers.includes('main')).toBe(false);
    expect(ALLOWED.main.includes('workers')).toBe(false);
    expect(ALLOWED.shared).toEqual(['shared']);
    const found = [
      ...`import { x } from '../src/errors.js';\nconst m = await import("../workers/a.js");`.matchAll(
        SPECIFIER,
      ),
    ];
    expect(found.map((m) => m[1])).toEqual(['../src/errors.js', '../workers/a.js']);
  });
});
