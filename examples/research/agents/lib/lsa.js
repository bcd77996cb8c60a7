// Latent semantic analysis: a truncated SVD of the term × passage matrix, so
// passages and queries can be compared by topic rather than by exact words
// (Deerwester et al., 1990). "harbour", "vessels" and "transshipment" end up
// near "port" and "shipping" because they occur in the same kind of passage.
//
// The SVD is computed by block subspace iteration with a Rayleigh-Ritz step, the
// deterministic core of randomized SVD (Halko, Martinsson & Tropp, 2011): it
// starts from DCT basis vectors instead of random ones, so every run is identical.
// Matrices are stored as arrays of columns (Float64Array), which keeps the
// sparse products and the Gram-Schmidt passes on contiguous memory.

/**
 * Rank-`k` LSA of `n` passages given as unit sparse vectors ({ ids, w }) over
 * `m` terms. Returns the passages' latent vectors (rows of V·Σ, as k-dim
 * Float64Arrays) and `fold(query)`, which maps a sparse term vector into that space.
 */
export function lsa(passages, m, k, { iterations = 8, oversample = 16, check = () => {} } = {}) {
  const n = passages.length;
  const l = Math.min(k + oversample, n, m);

  // X: n × l, the first l DCT-II basis vectors (orthonormal, deterministic).
  let X = Array.from({ length: l }, (_, c) => {
    const col = new Float64Array(n);
    for (let j = 0; j < n; j++) col[j] = Math.cos((Math.PI * (j + 0.5) * c) / n);
    return col;
  });
  orthonormalize(X);

  // Subspace iteration on AᵀA: X <- orth(Aᵀ (A X)). Each pass sharpens the
  // subspace toward the top singular vectors at the rate (σ_l+1 / σ_i)².
  // Z and the next X are allocated once and reused: no garbage per pass.
  const Z = Array.from({ length: l }, () => new Float64Array(m));
  let next = Array.from({ length: l }, () => new Float64Array(n));
  for (let it = 0; it < iterations; it++) {
    check();
    timesA(passages, X, Z);
    timesAT(passages, Z, next);
    [X, next] = [next, X];
    orthonormalize(X);
  }

  // Rayleigh-Ritz: eigenvectors of H = (AX)ᵀ(AX) rotate X onto the singular vectors.
  timesA(passages, X, Z);
  const H = Array.from({ length: l }, () => new Float64Array(l));
  for (let a = 0; a < l; a++) {
    for (let b = 0; b <= a; b++) {
      H[a][b] = dotDense(Z[a], Z[b]);
      H[b][a] = H[a][b];
    }
  }
  const { values, vectors } = jacobiEigen(H);
  const order = [...values.keys()].sort((a, b) => values[b] - values[a]).slice(0, k);
  const sigma = order.map((i) => Math.sqrt(Math.max(values[i], 0)));
  // V[:, r] = X · w_r (the r-th Ritz vector), as a column per kept dimension.
  const V = order.map((i) => {
    const v = new Float64Array(n);
    for (let c = 0; c < l; c++) {
      const w = vectors[c][i];
      const xc = X[c];
      for (let j = 0; j < n; j++) v[j] += w * xc[j];
    }
    return v;
  });

  const latent = Array.from({ length: n }, (_, j) =>
    Float64Array.from(V, (v, r) => v[j] * sigma[r]),
  );
  // A query q maps to Uᵀq, where U[:, r] = A V[:, r] / σ_r; so (Uᵀq)_r = Σ_j (q·a_j) V[j, r] / σ_r.
  const fold = (query) => {
    const overlap = Float64Array.from(passages, (p) => dotSparse(p, query));
    return Float64Array.from(V, (v, r) => {
      let s = 0;
      for (let j = 0; j < n; j++) s += overlap[j] * v[j];
      return sigma[r] > 0 ? s / sigma[r] : 0;
    });
  };
  return { latent, fold, sigma };
}

/** Cosine of two dense vectors. */
export function cosineDense(a, b) {
  const d = Math.sqrt(dotDense(a, a) * dotDense(b, b));
  return d === 0 ? 0 : dotDense(a, b) / d;
}

// Z = A X (m × l), into Z: each passage j adds x_j times its term weights.
function timesA(passages, X, Z) {
  for (let c = 0; c < X.length; c++) {
    const x = X[c];
    const z = Z[c];
    z.fill(0);
    for (let j = 0; j < passages.length; j++) {
      const xj = x[j];
      if (xj === 0) continue;
      const { ids, w } = passages[j];
      for (let e = 0; e < ids.length; e++) z[ids[e]] += w[e] * xj;
    }
  }
}

// Y = Aᵀ Z (n × l), into Y: passage j's entry is its term weights dotted with z.
function timesAT(passages, Z, Y) {
  for (let c = 0; c < Z.length; c++) {
    const z = Z[c];
    const y = Y[c];
    for (let j = 0; j < passages.length; j++) {
      const { ids, w } = passages[j];
      let s = 0;
      for (let e = 0; e < ids.length; e++) s += w[e] * z[ids[e]];
      y[j] = s;
    }
  }
}

// Modified Gram-Schmidt, twice ("twice is enough": Giraud et al., 2005), in place.
// A column that vanishes (dependent on the others) is left at zero.
function orthonormalize(cols) {
  for (let pass = 0; pass < 2; pass++) {
    for (let a = 0; a < cols.length; a++) {
      const ca = cols[a];
      for (let b = 0; b < a; b++) {
        const cb = cols[b];
        const r = dotDense(ca, cb);
        for (let j = 0; j < ca.length; j++) ca[j] -= r * cb[j];
      }
      const norm = Math.sqrt(dotDense(ca, ca));
      const scale = norm > 1e-12 ? 1 / norm : 0;
      for (let j = 0; j < ca.length; j++) ca[j] *= scale;
    }
  }
}

function dotDense(a, b) {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

function dotSparse(a, b) {
  let i = 0;
  let j = 0;
  let s = 0;
  while (i < a.ids.length && j < b.ids.length) {
    if (a.ids[i] === b.ids[j]) s += a.w[i++] * b.w[j++];
    else if (a.ids[i] < b.ids[j]) i++;
    else j++;
  }
  return s;
}

// Eigen-decomposition of a small symmetric matrix by cyclic Jacobi rotations.
// Returns eigenvalues and the eigenvector matrix (column i = vector of value i).
function jacobiEigen(input) {
  const l = input.length;
  const A = input.map((row) => Float64Array.from(row));
  const V = Array.from({ length: l }, (_, i) => {
    const row = new Float64Array(l);
    row[i] = 1;
    return row;
  });
  let scale = 0;
  for (let p = 0; p < l; p++) for (let q = 0; q < l; q++) scale += A[p][q] * A[p][q];
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < l; p++) for (let q = p + 1; q < l; q++) off += A[p][q] * A[p][q];
    if (off <= 1e-24 * scale) break;
    for (let p = 0; p < l; p++) for (let q = p + 1; q < l; q++) rotate(A, V, p, q);
  }
  return { values: A.map((row, i) => row[i]), vectors: V };
}

// One Jacobi rotation in the (p, q) plane, zeroing A[p][q] (A <- JᵀAJ, V <- VJ).
function rotate(A, V, p, q) {
  const apq = A[p][q];
  if (Math.abs(apq) < 1e-300) return;
  const l = A.length;
  const theta = (A[q][q] - A[p][p]) / (2 * apq);
  const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
  const c = 1 / Math.sqrt(t * t + 1);
  const s = t * c;
  for (let r = 0; r < l; r++) {
    const arp = A[r][p];
    const arq = A[r][q];
    A[r][p] = c * arp - s * arq;
    A[r][q] = s * arp + c * arq;
  }
  const Ap = A[p];
  const Aq = A[q];
  for (let r = 0; r < l; r++) {
    const apr = Ap[r];
    const aqr = Aq[r];
    Ap[r] = c * apr - s * aqr;
    Aq[r] = s * apr + c * aqr;
  }
  for (let r = 0; r < l; r++) {
    const vrp = V[r][p];
    const vrq = V[r][q];
    V[r][p] = c * vrp - s * vrq;
    V[r][q] = s * vrp + c * vrq;
  }
}
