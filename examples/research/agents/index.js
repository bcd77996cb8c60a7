// index: one shard of the corpus -> BM25 statistics and its best passages for the topic.
//
// Fanned out over the shards (tasks index-0 .. index-7), so this is where the
// run's CPU goes: tokenizing and stemming every word, counting phrases, a
// latent semantic analysis of the shard (a truncated SVD), and comparing every
// passage with every other one (O(n²) sparse cosines) to find near-duplicates
// and to rank passages by a query-biased random walk (biased LexRank:
// Otterbacher, Erkan & Radev, 2005). The output carries what `research` needs
// to merge shards exactly: each shard's passage count, total length and
// document frequencies of the query terms, and each passage's query-term counts.
//
// The steps are small functions rather than one long handler: V8 then
// optimizes each once and reuses the code for every shard a thread runs,
// instead of recompiling a long function's loops on every call.
import { readdir, readFile } from 'node:fs/promises';
import { defineAgent } from 'agentpool/agent';
import { cosineDense, lsa } from './lib/lsa.js';
import { collocations, PhraseCounter, topicPhrases } from './lib/phrases.js';
import { bm25, dot, idf, randomWalk, sparse } from './lib/rank.js';
import { counts, sentences, terms } from './lib/text.js';

const CORPUS = new URL('../corpus/', import.meta.url);
const PASSAGE_WORDS = 60; // sentences are grouped into passages of about this many words
const TOP_K = 24; // passages returned per shard
const EDGE_MIN = 0.1; // cosine below which two passages are not linked (LexRank's threshold)
const NEAR_DUPLICATE = 0.8; // cosine above which two passages say the same thing
const JUMP = 0.6; // share of the walk that jumps by query relevance rather than similarity
const LSA_DIMS = 64; // latent dimensions: enough for a shard of ~700 passages
const LSA_ITERATIONS = 6; // subspace iterations; the top dimensions settle well before

export default defineAgent(async (_prompt, ctx) => {
  const check = () => {
    if (ctx.signal.aborted) throw ctx.signal.reason;
  };
  const shard = Number(ctx.context.shard ?? 0);
  const { files, lines } = await readShard(shard, Number(ctx.context.shards ?? 8));
  const query = [...new Set(terms(String(ctx.context.topic)))];

  const passages = toPassages(lines);
  const counter = new PhraseCounter();
  const index = indexTerms(passages, counter);
  const phraseCounts = counter.result();
  ctx.progress(0.2, `${passages.length} passages, ${index.ids.size} terms`);

  const idfs = new Map(query.map((t) => [t, index.idf(t)]));
  const lexical = Float64Array.from(passages, (p) => bm25(p.tf, idfs, p.len, index.avgLen));
  const vectors = passages.map((p) => tfidfVector(p, index));
  const semantic = semanticScores(vectors, query, index, check);
  ctx.progress(0.45, `LSA: ${LSA_DIMS} dimensions`);

  const graph = similarityGraph(vectors, check, (i) =>
    ctx.progress(0.45 + (0.45 * i) / vectors.length, `similarity row ${i}/${vectors.length}`),
  );
  // Relevance = BM25 scaled to [0, 1] plus the semantic cosine, squared so the
  // many weak cosines of unrelated passages add little. The walk then favours
  // relevant passages and passages similar to many relevant ones; an isolated
  // keyword hit ranks lower.
  const maxLexical = Math.max(...lexical) || 1;
  const relevance = lexical.map((x, i) => x / maxLexical + Math.max(0, semantic[i]) ** 2);
  const total = relevance.reduce((a, b) => a + b, 0);
  const walk = randomWalk(
    graph.edges,
    relevance.map((r) => (total > 0 ? r / total : 1 / relevance.length)),
    JUMP,
  );
  ctx.progress(0.95, `random walk converged in ${walk.iterations} iterations`);

  const top = topPassages(walk.scores, graph.duplicates).map((i) => {
    const p = passages[i];
    const [country, section] = p.title.split(' — ');
    return {
      id: `${shard}:${i}`,
      country,
      section,
      text: p.text,
      len: p.len,
      tf: Object.fromEntries(query.map((t) => [t, p.tf.get(t) ?? 0])),
      bm25: round(lexical[i]),
      semantic: round(semantic[i]),
      centrality: round(walk.scores[i] * passages.length), // 1 = an average passage of this shard
    };
  });

  return {
    shard,
    files,
    documents: lines.length / 2,
    passages: passages.length,
    tokens: index.tokens,
    vocabulary: index.ids.size,
    edges: graph.edgeCount,
    duplicatePairs: graph.duplicatePairs,
    collocations: collocations(phraseCounts, 8), // this shard's strongest, for the record
    query,
    df: Object.fromEntries(query.map((t) => [t, index.dfOf(t)])),
    totalLen: index.tokens,
    top,
    ...topicPhrases(phraseCounts, query), // phrases, unigrams, bigramTotal
  };
});

/**
 * The lines of this task's corpus files: task `shard` of `shards` reads every
 * file whose number ≡ shard (mod shards), so 8 shards read one file each, 4 two.
 */
async function readShard(shard, shards) {
  const files = (await readdir(CORPUS))
    .filter((f) => /^factbook-\d+\.txt$/.test(f))
    .sort()
    .filter((_, i) => i % shards === shard);
  if (files.length === 0) throw new Error(`no corpus file for shard ${shard} of ${shards}`);
  const lines = [];
  for (const f of files) {
    const text = await readFile(new URL(f, CORPUS), 'utf8');
    lines.push(...text.split('\n').filter((line) => line !== ''));
  }
  return { files, lines };
}

/** Documents ("## Country — Section" line, then one line of text) -> passages of whole sentences. */
function toPassages(lines) {
  const passages = [];
  const add = (title, chunk) => passages.push({ title, text: chunk.join(' '), len: 0, tf: null });
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const title = lines[i].slice(3);
    let chunk = [];
    let words = 0;
    for (const s of sentences(lines[i + 1])) {
      chunk.push(s);
      words += s.split(' ').length;
      if (words >= PASSAGE_WORDS) {
        add(title, chunk);
        chunk = [];
        words = 0;
      }
    }
    if (chunk.length) add(title, chunk);
  }
  return passages;
}

/**
 * Stems every passage (setting its `len` and `tf`), counting its phrases on the
 * way, and builds the shard's term ids and document frequencies.
 */
function indexTerms(passages, phraseCounter) {
  const ids = new Map(); // stem -> term id
  const df = [];
  let tokens = 0;
  for (const p of passages) {
    const stems = phraseCounter.add(p.text);
    tokens += stems.length;
    p.len = stems.length;
    p.tf = counts(stems);
    for (const t of p.tf.keys()) {
      if (!ids.has(t)) ids.set(t, ids.size);
      const id = ids.get(t);
      df[id] = (df[id] ?? 0) + 1;
    }
  }
  const n = passages.length;
  const dfOf = (t) => df[ids.get(t)] ?? 0;
  return { ids, dfOf, n, tokens, avgLen: tokens / n, idf: (t) => idf(dfOf(t), n) };
}

/** A passage as a unit-length tf-idf vector over term ids (log tf, log N/df). */
function tfidfVector(p, { ids, dfOf, n }) {
  return sparse([...p.tf].map(([t, f]) => [ids.get(t), (1 + Math.log(f)) * Math.log(n / dfOf(t))]));
}

/** Cosine of each passage with the query in the shard's LSA space: finds passages on the topic in other words. */
function semanticScores(vectors, query, index, check) {
  const { latent, fold } = lsa(vectors, index.ids.size, LSA_DIMS, {
    iterations: LSA_ITERATIONS,
    check,
  });
  const known = query.filter((t) => index.ids.has(t));
  const q = fold(sparse(known.map((t) => [index.ids.get(t), index.idf(t)])));
  return Float64Array.from(latent, (v) => cosineDense(v, q));
}

/**
 * Every pair of passages: edges (flat [j, cosine, ...] per passage) above
 * EDGE_MIN, and near-duplicate lists. The O(n²) part.
 */
function similarityGraph(vectors, check, progress) {
  const graph = {
    edges: vectors.map(() => []),
    duplicates: vectors.map(() => []),
    edgeCount: 0,
    duplicatePairs: 0,
  };
  for (let i = 0; i < vectors.length; i++) {
    if (i % 64 === 0) check();
    if (i % 256 === 0) progress(i);
    similarityRow(vectors, i, graph);
  }
  return graph;
}

// Row i against rows i+1..n-1. A function of its own, called n times per
// shard, so V8 optimizes it once for all shards rather than per call.
function similarityRow(vectors, i, graph) {
  const vi = vectors[i];
  for (let j = i + 1; j < vectors.length; j++) {
    const s = dot(vi, vectors[j]);
    if (s < EDGE_MIN) continue;
    graph.edges[i].push(j, s);
    graph.edges[j].push(i, s);
    graph.edgeCount++;
    if (s >= NEAR_DUPLICATE) {
      graph.duplicates[i].push(j);
      graph.duplicates[j].push(i);
      graph.duplicatePairs++;
    }
  }
}

/** Indices of the TOP_K best-scored passages, skipping near-duplicates of ones already taken. */
function topPassages(scores, duplicates) {
  const order = [...scores.keys()].sort((a, b) => scores[b] - scores[a]);
  const taken = [];
  for (const i of order) {
    if (taken.length === TOP_K) break;
    if (!duplicates[i].some((j) => taken.includes(j))) taken.push(i);
  }
  return taken;
}

function round(x) {
  return Math.round(x * 1000) / 1000;
}
