// Two-word phrases: counting them in a shard, and scoring them by Dunning's
// log-likelihood ratio, which says how much more often two words are adjacent
// than their own frequencies would predict.
import { llr } from './rank.js';
import { STOPWORDS, stem, words } from './text.js';

const CLAUSE = /[.,;:!?()"[\]]+/;

/**
 * Unigram and bigram counts of stems. A phrase never spans punctuation or a
 * stopword ("ports, shipping" is not a phrase). Each bigram keeps its most
 * frequent surface form for display ("maritime boundary").
 */
export class PhraseCounter {
  unigrams = new Map();
  counts = new Map(); // "stem stem" -> count
  forms = new Map(); // "word word" -> { key, count }
  total = 0;

  /** Counts the phrases of a text and returns its content terms (what `terms(text)` gives). */
  add(text) {
    const stems = [];
    for (const clause of text.split(CLAUSE)) this.#clause(clause, stems);
    return stems;
  }

  #clause(clause, stems) {
    let prevStem = null;
    let prevWord = null;
    for (const w of words(clause)) {
      const s = w.length > 1 && !STOPWORDS.has(w) ? stem(w.replace(/'s$/, '')) : null;
      if (s) {
        stems.push(s);
        this.unigrams.set(s, (this.unigrams.get(s) ?? 0) + 1);
      }
      if (s && prevStem) {
        const key = `${prevStem} ${s}`;
        this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
        const form = `${prevWord} ${w}`;
        const f = this.forms.get(form);
        if (f) f.count++;
        else this.forms.set(form, { key, count: 1 });
        this.total++;
      }
      prevStem = s;
      prevWord = w;
    }
  }

  /** { unigrams, bigrams: Map<"stem stem", { count, surface }>, total } */
  result() {
    const bigrams = new Map();
    for (const [key, count] of this.counts) bigrams.set(key, { count, surface: '', best: 0 });
    for (const [form, f] of this.forms) {
      const b = bigrams.get(f.key);
      if (f.count > b.best) Object.assign(b, { surface: form, best: f.count });
    }
    return { unigrams: this.unigrams, bigrams, total: this.total };
  }
}

/**
 * The bigrams (seen at least twice) that contain a query term, with the counts
 * another process needs to score them over several shards: the unigram counts
 * of their words and the shard's bigram total.
 */
export function topicPhrases({ unigrams, bigrams, total }, query) {
  const phrases = [];
  const used = {};
  for (const [key, b] of bigrams) {
    const [x, y] = key.split(' ');
    if (b.count < 2 || !(query.includes(x) || query.includes(y))) continue;
    phrases.push({ key, surface: b.surface, count: b.count });
    used[x] = unigrams.get(x);
    used[y] = unigrams.get(y);
  }
  return { phrases, unigrams: used, bigramTotal: total };
}

/** The `k` strongest collocations among bigrams seen at least `minCount` times. */
export function collocations({ unigrams, bigrams, total }, k, minCount = 5) {
  return [...bigrams]
    .filter(([, b]) => b.count >= minCount)
    .map(([key, b]) => {
      const [x, y] = key.split(' ');
      return {
        phrase: b.surface,
        count: b.count,
        llr: llr(b.count, unigrams.get(x), unigrams.get(y), total),
      };
    })
    .sort((a, b) => b.llr - a.llr)
    .slice(0, k)
    .map((c) => ({ ...c, llr: Math.round(c.llr) }));
}
