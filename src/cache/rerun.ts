import type { Graph } from '../dag/graph.js';
import { OptionsError } from '../shared/errors.js';

/** A task-id pattern: `*` matches any run of characters, `?` one; anything else itself. */
function globRegExp(pattern: string): RegExp {
  const body = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body}$`, 's');
}

/**
 * The tasks `rerun` names (ids or globs) and everything that depends on
 * them, as a flag per task index. A pattern that matches no task is an
 * error naming it: a typo would otherwise quietly rerun nothing.
 */
export function rerunSet(graph: Graph, patterns: readonly string[]): Uint8Array {
  const marked = new Uint8Array(graph.ids.length);
  const work: number[] = [];
  for (const pattern of patterns) {
    const regexp = globRegExp(pattern);
    let matched = false;
    graph.ids.forEach((id, i) => {
      if (!regexp.test(id)) return;
      matched = true;
      if (marked[i] === 0) work.push(i);
      marked[i] = 1;
    });
    if (!matched) {
      throw new OptionsError(
        `Expected each \`cache.rerun\` pattern to match a task id, got \`${JSON.stringify(pattern)}\`, which matches none`,
      );
    }
  }
  // Their dependents, transitively: a worklist, so a long chain cannot overflow the stack.
  for (let p = work.pop(); p !== undefined; p = work.pop()) {
    for (let k = graph.childStart[p] as number; k < (graph.childStart[p + 1] as number); k++) {
      const c = graph.childIdx[k] as number;
      if (marked[c] === 0) {
        marked[c] = 1;
        work.push(c);
      }
    }
  }
  return marked;
}
