import { extname } from 'node:path';
import { type Document, isScalar, parseDocument, visit } from 'yaml';
import { DagFileError } from '../shared/errors.js';

/** Line and column (both from 1) of a character offset in `text`. */
function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

/**
 * `JSON.parse`'s error with a line and column instead of a character offset
 * (V8 says "at position 22", which nobody can find in an editor; newer
 * versions add "(line 1 column 23)", which this also drops, to say it once).
 */
function jsonError(file: string, text: string, cause: Error): DagFileError {
  const position = /at position (\d+)/.exec(cause.message)?.[1];
  // "Unexpected end of JSON input" has no position: it is where the text ends.
  const offset =
    position !== undefined
      ? Number(position)
      : /end of JSON input/.test(cause.message)
        ? text.length
        : undefined;
  const reason = cause.message
    .replace(/ \(line \d+ column \d+\)/, '')
    .replace(/,? (?:in JSON )?at position \d+/, '')
    .replace(/ in JSON$/, '');
  let where = '';
  if (offset !== undefined) {
    const { line, column } = lineAndColumn(text, offset);
    where = `line ${line}, column ${column}: `;
  }
  return new DagFileError(file, `invalid JSON: ${where}${reason}`, { cause });
}

/**
 * A DAG file's text as a value: JSON for `.json`, YAML (which also reads
 * JSON) for anything else. Throws `DagFileError` naming the line and column.
 */
export function parseText(file: string, text: string): unknown {
  if (extname(file) === '.json') {
    try {
      return JSON.parse(text);
    } catch (cause) {
      throw jsonError(file, text, cause as Error);
    }
  }
  // Duplicate keys are checked below, not by yaml's `uniqueKeys`: that
  // compares each key with every earlier one of its map, so a 25,000-task
  // file (5 MB) spent 15 s of its 22 s there, and 50 MB took minutes.
  const doc = parseDocument(text, { uniqueKeys: false });
  const [error] = doc.errors;
  if (error) {
    const at = error.linePos?.[0];
    const where = at ? `line ${at.line}, column ${at.col}: ` : '';
    throw new DagFileError(
      file,
      `invalid YAML: ${where}${error.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`,
    );
  }
  const duplicate = firstDuplicateKey(doc);
  if (duplicate !== undefined) {
    const { line, column } = lineAndColumn(text, duplicate);
    throw new DagFileError(
      file,
      `invalid YAML: line ${line}, column ${column}: Map keys must be unique`,
    );
  }
  try {
    // Resolving aliases can still fail (an alias to no anchor, one that expands too far).
    return doc.toJS();
  } catch (cause) {
    throw new DagFileError(file, `invalid YAML: ${(cause as Error).message}`, { cause });
  }
}

/**
 * Where the first key that repeats in its map starts, in one pass with a
 * set per map. Keys compare as yaml's `uniqueKeys` does for scalars (by
 * value: `1` and `"1"` differ); other keys (rare: maps or lists as keys)
 * by their text.
 */
function firstDuplicateKey(doc: Document): number | undefined {
  let found: number | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const key = pair.key;
        const value = isScalar(key) ? key.value : String(key);
        if (seen.has(value)) {
          found = (key as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
          return visit.BREAK;
        }
        seen.add(value);
      }
      return undefined;
    },
  });
  return found;
}
