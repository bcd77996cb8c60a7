// draft: an extractive summary of the retrieved passages with TextRank
// (Mihalcea & Tarau, 2004): sentences are nodes, edges weigh how many terms two
// sentences share, and PageRank finds the sentences the others agree with.
// The best ones that do not repeat each other are kept, in their original order.
import { defineAgent } from 'agentpool/agent';
import { randomWalk } from './lib/rank.js';
import { cosine, counts, sentences, terms } from './lib/text.js';

const MAX_SENTENCES = 8;
const MIN_WORDS = 8;
const MAX_UNIT_WORDS = 45;
const MAX_WORDS = 230;
const REDUNDANT = 0.4; // cosine above which a sentence repeats one already chosen
const DAMPING = 0.85;

export default defineAgent(async (_prompt, ctx) => {
  const { passages, query } = ctx.deps.research;

  // Candidate sentences. Factbook notes are often lower-case lists of clauses
  // ("strategic location on ...; one of the world's busiest straits"): each
  // clause of those is a unit of its own. Very short or very long units
  // (sentence fragments, run-on lists of names) make poor summary lines.
  const nodes = [];
  for (const p of passages) {
    let position = 0;
    for (const sentence of sentences(p.text)) {
      const units = /^[a-z]/.test(sentence) ? sentence.split(/;\s+/) : [sentence];
      for (const unit of units) {
        const text = unit.replace(/[;,]$/, '');
        const length = text.split(' ').length;
        if (length < MIN_WORDS || length > MAX_UNIT_WORDS) continue;
        nodes.push({
          text,
          country: p.country,
          source: p.source,
          rank: p.rank,
          position: position++,
          stems: terms(text),
        });
      }
    }
  }
  const n = nodes.length;
  if (n === 0) throw new Error('no usable sentences in the retrieved passages');

  // Sentence graph. TextRank's similarity: shared terms over the log lengths
  // (log of size + 1, so that a one-term sentence does not divide by zero).
  const sets = nodes.map((s) => new Set(s.stems));
  const edges = nodes.map(() => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      let shared = 0;
      for (const t of sets[i]) if (sets[j].has(t)) shared++;
      if (shared === 0) continue;
      const w = shared / (Math.log(sets[i].size + 1) + Math.log(sets[j].size + 1));
      edges[i].push(j, w);
      edges[j].push(i, w);
    }
  }
  ctx.progress(0.4, `${n} sentences, graph built`);

  // The random jump favours sentences that use the topic's terms, so the
  // walk stays on topic (a topic-sensitive PageRank); the rest is plain TextRank.
  const weights = nodes.map((s) => 1 + s.stems.filter((t) => query.includes(t)).length);
  const total = weights.reduce((a, b) => a + b, 0);
  const { scores, iterations } = randomWalk(
    edges,
    weights.map((w) => w / total),
    1 - DAMPING,
  );
  ctx.progress(0.8, `TextRank converged in ${iterations} iterations`);

  // Greedy selection by score, skipping sentences too close to a chosen one.
  const ranked = [...nodes.keys()].sort((a, b) => scores[b] - scores[a]);
  const chosen = [];
  let words = 0;
  for (const i of ranked) {
    if (chosen.length === MAX_SENTENCES) break;
    const tf = counts(nodes[i].stems);
    const length = nodes[i].text.split(' ').length;
    if (words + length > MAX_WORDS) continue;
    if (chosen.some((c) => cosine(c.tf, tf) > REDUNDANT)) continue;
    chosen.push({ i, tf });
    words += length;
  }
  const summaryNodes = chosen
    .map((c) => nodes[c.i])
    .sort((a, b) => a.rank - b.rank || a.position - b.position);
  // One line per sentence, led by its country: extracted sentences often say
  // "the country" or "this economy" and would not say which one on their own.
  const summary = summaryNodes.map((s) => `${s.country}: ${s.text}`).join('\n');
  ctx.tokens.charge(summary);

  const picked = new Set(chosen.map((c) => c.i));
  return {
    summary,
    sources: summaryNodes.map((s) => ({ country: s.country, source: s.source, sentence: s.text })),
    words,
    ranking: ranked.slice(0, 40).map((i, r) => ({
      rank: r + 1,
      score: Math.round(scores[i] * n * 1000) / 1000, // 1 = an average sentence
      chosen: picked.has(i),
      country: nodes[i].country,
      text: nodes[i].text,
    })),
    graph: { sentences: n, edges: edges.reduce((a, e) => a + e.length, 0) / 4, iterations },
  };
});
