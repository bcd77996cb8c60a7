import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from './cli-helpers.js';

interface Packed {
  files: { path: string }[];
}

function packList(): Promise<Set<string>> {
  return new Promise((resolve, reject) => {
    // --ignore-scripts: `prepare` would rebuild dist/ under the other test files.
    execFile(
      'npm',
      ['pack', '--dry-run', '--json', '--ignore-scripts'],
      { cwd: root, timeout: 60_000 },
      (error, stdout) => {
        if (error) reject(error);
        else resolve(new Set((JSON.parse(stdout) as Packed[])[0]?.files.map((f) => f.path)));
      },
    );
  });
}

describe('npm pack', () => {
  it('ships the library, the CLI, their sources for the source maps and the LICENSE, nothing else', async () => {
    const files = await packList();
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
    expect(files.has('LICENSE')).toBe(true);
    expect(readFileSync(join(root, 'LICENSE'), 'utf8')).toContain(`${pkg.license} License`);
    expect(files.has(pkg.bin.agentpool)).toBe(true);
    for (const target of Object.values(pkg.exports) as (string | Record<string, string>)[])
      for (const path of typeof target === 'string' ? [target] : Object.values(target))
        expect(files.has(normalize(path))).toBe(true);
    for (const file of files) {
      expect(file).toMatch(
        /^(dist\/(src|workers)\/|src\/|workers\/|LICENSE$|README\.md$|package\.json$|(dag|config)\.schema\.json$)/,
      );
      if (file.endsWith('.map')) {
        // Every map points at a source that is shipped with it.
        const map = JSON.parse(readFileSync(join(root, file), 'utf8')) as { sources: string[] };
        for (const source of map.sources)
          expect(files.has(normalize(join(file, '..', source)))).toBe(true);
      }
      // Nothing left over from an older build: each built file has its source.
      const built = /^dist\/(.+)\.(?:js|d\.ts|js\.map)$/.exec(file);
      if (built) expect(files.has(`${built[1]}.ts`)).toBe(true);
    }
  });
});
