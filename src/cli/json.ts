/**
 * JSON for what agents return. Outputs cross threads by structured clone,
 * which carries values JSON has no form for; the CLI must still print and
 * save every result, so: a BigInt becomes its decimal string, a Map an
 * object, a Set an array, an Error `{ name, message }`, and a reference back
 * to an enclosing value the string `"[Circular]"`.
 */
export function toJson(value: unknown, space?: number): string {
  // The chain of values from the root to the one being written: `this` in
  // the replacer is the holder, so entries above it are finished siblings.
  const chain: { original: object; written: object }[] = [];
  return JSON.stringify(
    value,
    function (this: unknown, _key: string, v: unknown): unknown {
      if (typeof v === 'bigint') return v.toString();
      if (typeof v !== 'object' || v === null) return v;
      while (chain.length > 0 && chain.at(-1)?.written !== this) chain.pop();
      if (chain.some((link) => link.original === v)) return '[Circular]';
      const written = plain(v);
      chain.push({ original: v, written });
      return written;
    },
    space,
  );
}

function plain(v: object): object {
  if (v instanceof Map) return Object.fromEntries(v);
  if (v instanceof Set) return [...v];
  if (v instanceof Error) return { name: v.name, message: v.message };
  return v;
}
