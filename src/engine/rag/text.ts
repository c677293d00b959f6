/**
 * Lexical units shared by the full-text index and the local embedding. Chinese (and Japanese,
 * Korean) text has no spaces, and most Chinese words are two characters, so a run of CJK
 * characters becomes its character unigrams and bigrams; other scripts become lowercased words.
 */

// Han, Hiragana, Katakana, Hangul: scripts written without spaces between words.
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u;
const UNIT =
  /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]+|(?:(?![\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}])[\p{L}\p{N}])+/gu;

export interface LexicalTerms {
  /** CJK characters, one per occurrence. */
  unigrams: string[];
  /** Adjacent CJK character pairs within a run, one per occurrence. */
  bigrams: string[];
  /** Lowercased words of other scripts (and numbers), one per occurrence. */
  words: string[];
}

export function lexicalTerms(text: string): LexicalTerms {
  const out: LexicalTerms = { unigrams: [], bigrams: [], words: [] };
  for (const match of text.normalize('NFKC').matchAll(UNIT)) {
    const run = match[0];
    if (CJK.test(run[0])) {
      const chars = Array.from(run);
      for (let i = 0; i < chars.length; i++) {
        out.unigrams.push(chars[i]);
        if (i + 1 < chars.length) out.bigrams.push(chars[i] + chars[i + 1]);
      }
    } else {
      out.words.push(run.toLowerCase());
    }
  }
  return out;
}

export const isCjk = (ch: string) => CJK.test(ch);

/**
 * Interrogatives: the words that make a text a question (什么, 哪, 谁, 多少, 怎么, 为什么, ...; what,
 * which, who, where, when, why, how). They say what is asked, not what the answer is about, and a
 * passage that answers rarely contains them; yet they are rare in prose, so BM25 gives them a high
 * IDF and they pull up any passage that happens to ask something. A fixed, closed word class, not
 * a list fitted to data: the same for every knowledge base.
 */
const INTERROGATIVES =
  /什么|哪|谁|多少|怎么|怎样|如何|为什么|为何|何时|何地|何处|何种|几[个年次种位名座部岁天]|是否|吗|呢|\b(?:what|which|who|whom|whose|where|when|why|how)\b/giu;

/**
 * The query without its interrogatives (each replaced by a space, so no bigram spans the gap), or
 * the query itself when nothing else is left (`为什么？` is still searched for).
 */
export function withoutInterrogatives(query: string): string {
  const stripped = query.normalize('NFKC').replace(INTERROGATIVES, ' ');
  const { unigrams, words } = lexicalTerms(stripped);
  return unigrams.length + words.length > 0 ? stripped : query;
}
