import type { Limits } from './dag/schema.js';

/** Merges limits field by field, lowest precedence first (runtime < agent < task). */
export function mergeLimits(...levels: (Limits | undefined)[]): Limits {
  const merged: Limits = {};
  for (const level of levels) {
    if (level === undefined) continue;
    for (const [key, value] of Object.entries(level) as [keyof Limits, number | undefined][]) {
      if (value !== undefined) merged[key] = value;
    }
  }
  return merged;
}
