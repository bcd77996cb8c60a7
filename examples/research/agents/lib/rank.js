// Ranking math shared by the agents: BM25, sparse cosine, random walks, log-likelihood.

export const BM25_K1 = 1.2;
export const BM25_B = 0.75;

/** BM25's IDF (the Lucene form, never negative) of a term in `df` of `n` units. */
export function idf(df, n) {
  return Math.log(1 + (n - df + 0.5) / (df + 0.5));
}

/**
 * BM25 score of one unit for a query. `idfs` maps each query term to its IDF,
 * `tf` each term of the unit to its count; `len` and `avgLen` are in terms.
 */
export function bm25(tf, idfs, len, avgLen) {
  let score = 0;
  const norm = BM25_K1 * (1 - BM25_B + (BM25_B * len) / avgLen);
  for (const [term, weight] of idfs) {
    const f = tf.get(term);
    if (f) score += (weight * f * (BM25_K1 + 1)) / (f + norm);
  }
  return score;
}

/**
 * A unit-length sparse vector from term weights: ids sorted ascending so two
 * vectors' dot product is one merge pass.
 */
export function sparse(weights) {
  const entries = [...weights].sort((a, b) => a[0] - b[0]);
  const ids = new Int32Array(entries.length);
  const w = new Float64Array(entries.length);
  let norm = 0;
  entries.forEach(([id, x], i) => {
    ids[i] = id;
    w[i] = x;
    norm += x * x;
  });
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < w.length; i++) w[i] /= norm;
  return { ids, w };
}

/** Dot product of two sparse vectors (their cosine, as both have unit length). */
export function dot(a, b) {
  const ai = a.ids;
  const bi = b.ids;
  const aw = a.w;
  const bw = b.w;
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < ai.length && j < bi.length) {
    const x = ai[i];
    const y = bi[j];
    if (x === y) s += aw[i++] * bw[j++];
    else if (x < y) i++;
    else j++;
  }
  return s;
}

/**
 * Stationary distribution of a random walk that follows weighted edges with
 * probability `1 - jump` and jumps to a node drawn from `bias` (sums to 1) with
 * probability `jump`: PageRank when `bias` is uniform, a query-biased walk
 * otherwise. `edges[i]` is node i's flat list `[j, weight, j, weight, ...]`
 * (one array per node rather than one per edge). Power iteration to `tol` (L1).
 */
export function randomWalk(edges, bias, jump, { tol = 1e-9, maxIter = 200 } = {}) {
  const n = bias.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let e = 1; e < edges[i].length; e += 2) out[i] += edges[i][e];
  let p = Float64Array.from(bias);
  let next = new Float64Array(n);
  let iterations = 0;
  while (iterations < maxIter) {
    iterations++;
    const delta = walkStep(edges, out, bias, jump, p, next);
    [p, next] = [next, p];
    if (delta < tol) break;
  }
  return { scores: p, iterations };
}

// One power-iteration step from p into next; returns the L1 change.
function walkStep(edges, out, bias, jump, p, next) {
  const n = p.length;
  next.fill(0);
  let dangling = 0; // mass of nodes without edges is spread by the bias
  for (let i = 0; i < n; i++) {
    if (out[i] === 0) {
      dangling += p[i];
      continue;
    }
    const share = ((1 - jump) * p[i]) / out[i];
    const list = edges[i];
    for (let e = 0; e < list.length; e += 2) next[list[e]] += share * list[e + 1];
  }
  let delta = 0;
  for (let i = 0; i < n; i++) {
    next[i] += (jump + (1 - jump) * dangling) * bias[i];
    delta += Math.abs(next[i] - p[i]);
  }
  return delta;
}

/**
 * Dunning's log-likelihood ratio (G²) that two words form a phrase: `both`
 * times adjacent, `first` and `second` their counts, `total` all bigrams.
 */
export function llr(both, first, second, total) {
  const k = [both, first - both, second - both, total - first - second + both];
  const rows = [k[0] + k[1], k[2] + k[3]];
  const cols = [k[0] + k[2], k[1] + k[3]];
  let g = 0;
  for (let r = 0; r < 2; r++) {
    for (let c = 0; c < 2; c++) {
      const observed = k[r * 2 + c];
      if (observed > 0) g += observed * Math.log((observed * total) / (rows[r] * cols[c]));
    }
  }
  return 2 * g;
}
