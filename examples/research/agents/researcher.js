// research: merges the index shards into one global ranking of passages.
//
// Each shard scored its passages with its own statistics. Here BM25 is
// recomputed with corpus-wide IDF (document frequencies and passage counts
// summed over shards, average length over the whole corpus), which is exactly
// what one index over the whole corpus would give. That lexical ranking is
// fused with the shards' semantic (LSA) similarity and random-walk centrality by
// reciprocal rank fusion (Cormack et al., 2009), which needs no common scale
// between scores that come from different shards' spaces.
import { defineAgent } from 'agentpool/agent';
import { collocations } from './lib/phrases.js';
import { bm25, idf } from './lib/rank.js';
import { cosine, counts, terms } from './lib/text.js';

const KEEP = 30; // passages handed to the writer
const RRF_K = 60; // the usual reciprocal-rank-fusion constant
const NEAR_DUPLICATE = 0.8;

export default defineAgent(async (_prompt, ctx) => {
  const shards = Object.values(ctx.deps)
    .filter((d) => d && Array.isArray(d.top))
    .sort((a, b) => a.shard - b.shard);
  if (shards.length === 0) throw new Error('research needs the outputs of the index tasks');
  const query = shards[0].query;

  // Corpus-wide statistics from the per-shard ones.
  const sum = (f) => shards.reduce((a, s) => a + f(s), 0);
  const n = sum((s) => s.passages);
  const avgLen = sum((s) => s.totalLen) / n;
  const df = Object.fromEntries(query.map((t) => [t, sum((s) => s.df[t] ?? 0)]));
  const idfs = new Map(query.map((t) => [t, idf(df[t], n)]));

  // Global BM25 of every shard's candidates, then fusion with their semantic
  // similarity and centrality.
  const candidates = shards.flatMap((s) => s.top);
  for (const c of candidates) {
    c.globalBm25 = bm25(new Map(Object.entries(c.tf)), idfs, c.len, avgLen);
  }
  const rankBy = (key) => {
    const ranks = new Map();
    for (const [i, c] of [...candidates].sort((a, b) => b[key] - a[key]).entries()) {
      ranks.set(c, i + 1);
    }
    return ranks;
  };
  const rankings = [rankBy('globalBm25'), rankBy('semantic'), rankBy('centrality')];
  for (const c of candidates) {
    c.score = rankings.reduce((a, ranks) => a + 1 / (RRF_K + ranks.get(c)), 0);
  }
  candidates.sort((a, b) => b.score - a.score);
  ctx.progress(0.5, `${candidates.length} candidates from ${shards.length} shards`);

  // Shards removed their own near-duplicates; remove those across shards
  // (territories of one country often share a paragraph).
  const kept = [];
  for (const c of candidates) {
    if (kept.length === KEEP) break;
    const tf = counts(terms(c.text));
    if (kept.some((k) => cosine(k.tfMap, tf) >= NEAR_DUPLICATE)) continue;
    kept.push({ ...c, tfMap: tf });
  }

  // Topic phrases: bigrams with a query term, scored over the whole corpus
  // from the shards' counts.
  const merged = { unigrams: new Map(), bigrams: new Map(), total: sum((s) => s.bigramTotal) };
  for (const s of shards) {
    for (const [t, count] of Object.entries(s.unigrams)) {
      merged.unigrams.set(t, (merged.unigrams.get(t) ?? 0) + count);
    }
    for (const p of s.phrases) {
      // Summed counts; the surface form from the shard that saw the phrase most.
      const b = merged.bigrams.get(p.key) ?? { count: 0, surface: p.surface, best: 0 };
      b.count += p.count;
      if (p.count > b.best) Object.assign(b, { surface: p.surface, best: p.count });
      merged.bigrams.set(p.key, b);
    }
  }
  const phrases = collocations(merged, 12, 3);

  return {
    topic: ctx.context.topic,
    query,
    corpus: {
      shards: shards.length,
      documents: sum((s) => s.documents),
      passages: n,
      tokens: sum((s) => s.tokens),
      duplicatePairs: sum((s) => s.duplicatePairs),
      avgPassageTerms: Math.round(avgLen * 10) / 10,
    },
    df,
    phrases,
    passages: kept.map((c, i) => ({
      rank: i + 1,
      id: c.id,
      source: `${c.country} — ${c.section}`,
      country: c.country,
      text: c.text,
      bm25: Math.round(c.globalBm25 * 1000) / 1000,
      semantic: c.semantic,
      centrality: c.centrality,
      score: Math.round(c.score * 1e5) / 1e5,
    })),
  };
});
