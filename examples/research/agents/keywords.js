// keywords: ranked keyphrases of the draft, by RAKE (Rose et al., 2010).
//
// The reference DAG's "translate" step has no honest local stand-in without a
// model; keyphrase extraction is real, local work that reads well next to a summary.
// RAKE splits text at stopwords and punctuation into candidate phrases and scores
// each word by degree / frequency (words that keep company in phrases score
// higher); a phrase scores the sum of its words. Word statistics come from the
// draft's ranked sentence pool, steadier than the few summary sentences alone.
// RAKE alone favours any long phrase, so its score is weighted by topicality:
// how widely the phrase's words recur across that pool. Only phrases of the
// summary itself are reported.
import { defineAgent } from 'agentpool/agent';
import { STOPWORDS, stem } from './lib/text.js';

const TOP = 15;
const MAX_PHRASE_WORDS = 3;
// RAKE needs a longer stoplist than retrieval does: verbs and vague adjectives
// otherwise glue themselves to phrases ("singapore subsequently became").
const RAKE_STOP = new Set([
  ...STOPWORDS,
  ...(
    'became become becomes include includes included provide provides provided make makes made ' +
    'use used uses new first largest large main major important high higher strong subsequently ' +
    'several various around nearly almost due based part remain remains remained continue ' +
    'continues continued like another even less least since significant significantly ' +
    'around despite according equal total primary'
  ).split(' '),
]);

export default defineAgent(async (_prompt, ctx) => {
  const { sources, ranking } = ctx.deps.draft;
  const summary = sources.map((s) => s.sentence);
  const pool = [...summary, ...ranking.filter((r) => !r.chosen).map((r) => r.text)];

  const frequency = new Map();
  const degree = new Map();
  for (const phrase of pool.flatMap(candidates)) {
    for (const w of phrase) {
      frequency.set(w, (frequency.get(w) ?? 0) + 1);
      degree.set(w, (degree.get(w) ?? 0) + phrase.length);
    }
  }

  // Topicality: in how many pool sentences a word's stem occurs. "shipping"
  // recurs across the retrieved material, "gibraltar" does not.
  const spread = new Map();
  for (const sentence of pool) {
    for (const t of new Set(candidates(sentence).flat().map(stem))) {
      spread.set(t, (spread.get(t) ?? 0) + 1);
    }
  }
  const topicality = (phrase) =>
    phrase.reduce((a, w) => a + Math.log2(1 + spread.get(stem(w))), 0) / phrase.length;

  const seen = new Set();
  const keyphrases = [];
  for (const phrase of summary.flatMap(candidates)) {
    const key = phrase.join(' ');
    if (seen.has(key)) continue;
    seen.add(key);
    const rake = phrase.reduce((a, w) => a + degree.get(w) / frequency.get(w), 0);
    const topical = topicality(phrase);
    keyphrases.push({
      phrase: key,
      score: round(rake * topical),
      rake: round(rake),
      topical: round(topical),
    });
  }
  keyphrases.sort((a, b) => b.score - a.score || a.phrase.localeCompare(b.phrase));
  ctx.progress(1, `${keyphrases.length} candidate phrases`);
  return { method: 'RAKE', keyphrases: keyphrases.slice(0, TOP) };
});

/** Candidate phrases of a sentence: runs of content words between stopwords and punctuation. */
function candidates(text) {
  const phrases = [];
  for (const clause of text.split(/[.,;:!?()"[\]]+|\s[-–—]\s/)) {
    let run = [];
    // Hyphenated words stay whole ("state-of-the-art"); numbers end a phrase.
    for (const w of clause.toLowerCase().match(/[a-z]+(?:['-][a-z]+)*|\d[\d.%a-z]*/g) ?? []) {
      if (RAKE_STOP.has(w) || w.length < 2 || /^\d/.test(w)) {
        if (run.length) phrases.push(run);
        run = [];
      } else run.push(w.replace(/'s$/, ''));
    }
    if (run.length) phrases.push(run);
  }
  return phrases.filter((p) => p.length <= MAX_PHRASE_WORDS);
}

function round(x) {
  return Math.round(x * 100) / 100;
}
