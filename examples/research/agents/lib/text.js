// Pure text helpers shared by the research agents: no I/O, no dependencies; the only
// state is the stemmer's memo.

// Common English function words plus a few Factbook boilerplate words ("est" from
// "(2015 est.)"); they carry no topic and would dominate every count.
export const STOPWORDS = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before ' +
    'being below between both but by can could did do does doing down during each few for from ' +
    'further had has have having he her here hers him his how i if in into is it its itself just ' +
    'me more most my no nor not now of off on once only or other our ours out over own same she ' +
    'should so some such than that the their theirs them then there these they this those through ' +
    'to too under until up very was we were what when where which while who whom why will with ' +
    'would you your yours est per since among within without however although though including ' +
    'many much well still yet one two three may might must shall us'
  ).split(' '),
);

/** Lower-case word tokens (letters, inner apostrophes and hyphens split off). */
export function words(text) {
  return text.toLowerCase().match(/[a-z]+(?:'[a-z]+)?/g) ?? [];
}

/** Content terms of a text: words minus stopwords and one-letter tokens, Porter-stemmed. */
export function terms(text) {
  const out = [];
  for (const w of words(text)) {
    if (w.length > 1 && !STOPWORDS.has(w)) out.push(stem(w.replace(/'s$/, '')));
  }
  return out;
}

/** Counts of the items of an array, as a Map. */
export function counts(items) {
  const m = new Map();
  for (const x of items) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

// Abbreviations that end in a period but do not end a sentence in this corpus.
const ABBREVIATIONS = new Set(
  (
    'est approx mr mrs dr st mt ft no vs etc jan feb mar apr jun jul aug sep sept oct nov dec ' +
    'gen col lt sr jr inc co corp ltd'
  ).split(' '),
);

/**
 * Sentences of a text. Splits after . ! ? before a capital or digit, and at the
 * Factbook's "++" paragraph marks, but not after abbreviations ("est.", "St.") or
 * initials ("U.S.", "J. Smith").
 */
export function sentences(text) {
  const out = [];
  for (const paragraph of text.split(/\s*\+\+\s*/)) {
    let start = 0;
    for (const m of paragraph.matchAll(/[.!?]["')\]]*\s+(?=["'(]?[A-Z0-9])/g)) {
      const before = paragraph.slice(start, m.index);
      const lastWord = before.match(/([A-Za-z.]+)$/)?.[1] ?? '';
      if (ABBREVIATIONS.has(lastWord.toLowerCase()) || /^([A-Za-z]\.)*[A-Za-z]$/.test(lastWord)) {
        continue;
      }
      const end = m.index + m[0].trimEnd().length;
      out.push(paragraph.slice(start, end).trim());
      start = m.index + m[0].length;
    }
    const rest = paragraph.slice(start).trim();
    if (rest) out.push(rest);
  }
  return out.filter((s) => /[a-z]/i.test(s));
}

/** Syllables of a word, by vowel groups (the usual heuristic for readability formulas). */
export function syllables(word) {
  const w = word.toLowerCase().replace(/[^a-z]/g, '');
  if (w.length <= 3) return 1;
  const trimmed = w.replace(/(?:[^laeiouy]es|[^laeiouy]ed|[^laeiouy]e)$/, '').replace(/^y/, '');
  return Math.max(1, trimmed.match(/[aeiouy]{1,2}/g)?.length ?? 1);
}

/** Cosine similarity of two term-count Maps. */
export function cosine(a, b) {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (const [t, x] of a) {
    na += x * x;
    const y = b.get(t);
    if (y) dot += x * y;
  }
  for (const y of b.values()) nb += y * y;
  return dot === 0 ? 0 : dot / Math.sqrt(na * nb);
}

// ---- Porter (1980) stemmer -------------------------------------------------
// The classic algorithm, with its regular expressions compiled once. "shipping",
// "shipped" and "ships" all become "ship", so the index matches word forms.

const c = '[^aeiou]';
const v = '[aeiouy]';
const C = `${c}[^aeiouy]*`;
const V = `${v}[aeiou]*`;
const mGt0 = new RegExp(`^(${C})?${V}${C}`);
const mEq1 = new RegExp(`^(${C})?${V}${C}(${V})?$`);
const mGt1 = new RegExp(`^(${C})?${V}${C}${V}${C}`);
const hasVowel = new RegExp(`^(${C})?${v}`);
const cvc = new RegExp(`^${C}${v}[^aeiouwxy]$`);

const STEP2 = {
  ational: 'ate',
  tional: 'tion',
  enci: 'ence',
  anci: 'ance',
  izer: 'ize',
  bli: 'ble',
  alli: 'al',
  entli: 'ent',
  eli: 'e',
  ousli: 'ous',
  ization: 'ize',
  ation: 'ate',
  ator: 'ate',
  alism: 'al',
  iveness: 'ive',
  fulness: 'ful',
  ousness: 'ous',
  aliti: 'al',
  iviti: 'ive',
  biliti: 'ble',
  logi: 'log',
};
const STEP3 = { icate: 'ic', ative: '', alize: 'al', iciti: 'ic', ical: 'ic', ful: '', ness: '' };
const step2re = new RegExp(`^(.+?)(${Object.keys(STEP2).join('|')})$`);
const step3re = new RegExp(`^(.+?)(${Object.keys(STEP3).join('|')})$`);
const step4re =
  /^(.+?)(al|ance|ence|er|ic|able|ible|ant|ement|ment|ent|ou|ism|ate|iti|ous|ive|ize)$/;

// Stems are memoized per thread: a shard has ~40k word tokens but only a few
// thousand distinct words, and the regex steps allocate where a lookup does not.
const stems = new Map();

/** Porter stem of a lower-case word. */
export function stem(word) {
  let s = stems.get(word);
  if (s === undefined) {
    s = porter(word);
    stems.set(word, s);
  }
  return s;
}

function porter(word) {
  if (word.length < 3) return word;
  const startsWithY = word[0] === 'y';
  let w = startsWithY ? `Y${word.slice(1)}` : word;

  // Step 1a: plurals.
  const plural = /^(.+?)(ss|i)es$/.exec(w) ?? /^(.+?)([^s])s$/.exec(w);
  if (plural) w = plural[1] + plural[2];

  // Step 1b: -eed, -ed, -ing.
  const eed = /^(.+?)eed$/.exec(w);
  const ed = eed ? null : /^(.+?)(ed|ing)$/.exec(w);
  if (eed) {
    if (mGt0.test(eed[1])) w = w.slice(0, -1);
  } else if (ed && hasVowel.test(ed[1])) {
    w = ed[1];
    if (/(at|bl|iz)$/.test(w)) w += 'e';
    else if (/([^aeiouylsz])\1$/.test(w)) w = w.slice(0, -1);
    else if (cvc.test(w)) w += 'e';
  }

  // Step 1c: y -> i after a vowel-bearing stem.
  const y = /^(.+?)y$/.exec(w);
  if (y && hasVowel.test(y[1])) w = `${y[1]}i`;

  // Steps 2-4: derivational suffixes, for long enough stems.
  const s2 = step2re.exec(w);
  if (s2 && mGt0.test(s2[1])) w = s2[1] + STEP2[s2[2]];
  const s3 = step3re.exec(w);
  if (s3 && mGt0.test(s3[1])) w = s3[1] + STEP3[s3[2]];
  const s4 = step4re.exec(w);
  const ion = s4 ? null : /^(.+?)([st])ion$/.exec(w);
  if (s4 && mGt1.test(s4[1])) w = s4[1];
  else if (ion && mGt1.test(ion[1] + ion[2])) w = ion[1] + ion[2];

  // Step 5: final -e and -ll.
  const e = /^(.+?)e$/.exec(w);
  if (e && (mGt1.test(e[1]) || (mEq1.test(e[1]) && !cvc.test(e[1])))) w = e[1];
  if (/ll$/.test(w) && mGt1.test(w)) w = w.slice(0, -1);

  return startsWithY ? `y${w.slice(1)}` : w;
}
