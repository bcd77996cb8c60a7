// review: readability and quality checks of the draft, with a short verdict.
import { defineAgent } from 'agentpool/agent';
import { counts, syllables, terms } from './lib/text.js';

export default defineAgent(async (_prompt, ctx) => {
  const { sources } = ctx.deps.draft;
  const topic = String(ctx.context.topic);
  // The extracted sentences, without the summary's "Country:" labels.
  const sents = sources.map((s) => s.sentence);
  const text = sents.join(' ');
  const words = text.match(/[A-Za-z]+(?:['-][A-Za-z]+)*/g) ?? [];
  const syllableCount = words.reduce((a, w) => a + syllables(w), 0);

  // Flesch (1948) and Flesch-Kincaid (1975) on words per sentence and syllables per word.
  const wps = words.length / sents.length;
  const spw = syllableCount / words.length;
  const readingEase = 206.835 - 1.015 * wps - 84.6 * spw;
  const grade = 0.39 * wps + 11.8 * spw - 15.59;

  // Lexical diversity: type-token ratio, and MTLD (McCarthy & Jarvis, 2010),
  // which unlike the ratio does not fall as a text grows.
  const lower = words.map((w) => w.toLowerCase());
  const ttr = new Set(lower).size / lower.length;

  // Repeats: the same sentence twice, or two sentences sharing most of their terms.
  const repeats = [];
  const sets = sents.map((s) => new Set(terms(s)));
  for (let i = 0; i < sents.length; i++) {
    for (let j = i + 1; j < sents.length; j++) {
      const shared = [...sets[i]].filter((t) => sets[j].has(t)).length;
      const jaccard = shared / (sets[i].size + sets[j].size - shared || 1);
      if (jaccard >= 0.5) repeats.push({ a: i + 1, b: j + 1, jaccard: round(jaccard) });
    }
  }

  // Topic coverage: which of the topic's terms the summary uses, and how often.
  const used = counts(terms(text));
  const topicTerms = [...new Set(terms(topic))];
  const covered = topicTerms.filter((t) => used.has(t));
  const countries = new Set(sources.map((s) => s.country));

  const review = {
    sentences: sents.length,
    words: words.length,
    fleschReadingEase: round(readingEase),
    fleschKincaidGrade: round(grade),
    avgSentenceWords: round(wps),
    avgSyllablesPerWord: round(spw),
    typeTokenRatio: round(ttr),
    mtld: round((mtld(lower) + mtld([...lower].reverse())) / 2),
    repeatedSentences: repeats,
    topicCoverage: {
      covered,
      missing: topicTerms.filter((t) => !used.has(t)),
      ratio: round(covered.length / topicTerms.length),
      mentions: Object.fromEntries(topicTerms.map((t) => [t, used.get(t) ?? 0])),
    },
    countries: countries.size,
  };
  // Verdict and the text reviewed first: they are what a reader (and the CLI's preview) wants.
  return { verdict: verdict(review), summary: ctx.deps.draft.summary, ...review };
});

// Measure of textual lexical diversity: the mean length of runs of words whose
// type-token ratio stays above 0.72, with the last partial run counted pro rata.
function mtld(words, threshold = 0.72) {
  let factors = 0;
  let types = new Set();
  let tokens = 0;
  for (const w of words) {
    types.add(w);
    tokens++;
    if (types.size / tokens <= threshold) {
      factors++;
      types = new Set();
      tokens = 0;
    }
  }
  if (tokens > 0) factors += (1 - types.size / tokens) / (1 - threshold);
  return factors > 0 ? words.length / factors : words.length;
}

// Revise when the draft repeats itself or misses the topic; accept with edits
// when it is on topic but hard going (Flesch below 30 is graduate-level prose).
function verdict(r) {
  const ease = r.fleschReadingEase;
  const band = [
    [60, 'plain English'],
    [50, 'fairly difficult'],
    [30, 'difficult'],
    [-Infinity, 'very difficult'],
  ].find(([min]) => ease >= min)[1];
  const notes = [
    `${band} to read (Flesch ${Math.round(ease)}, grade ${Math.round(r.fleschKincaidGrade)})`,
    `${r.sentences} sentences from ${r.countries} countries`,
    r.repeatedSentences.length
      ? `${r.repeatedSentences.length} near-repeated sentence pair(s)`
      : 'no repeats',
    r.topicCoverage.missing.length
      ? `topic terms missing: ${r.topicCoverage.missing.join(', ')}`
      : 'covers every topic term',
  ];
  let decision = 'Accept';
  if (r.repeatedSentences.length > 0 || r.topicCoverage.ratio < 0.75) decision = 'Revise';
  else if (ease < 30 || r.avgSentenceWords > 30) decision = 'Accept with edits (dense prose)';
  return `${decision}: ${notes.join('; ')}.`;
}

function round(x) {
  return Math.round(x * 100) / 100;
}
