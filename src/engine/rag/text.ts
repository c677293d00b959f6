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
