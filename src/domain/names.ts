// R5 compares the payer's account name with the registered basic-account name. Bank systems
// differ in width (ＡＢＣ vs ABC, （ vs (), spacing and Latin case, none of which makes it a
// different account holder; anything else (有限公司 vs 有限责任公司) is a real difference and is
// left for a person to judge.

/** Zero-width characters that some bank front ends leave in names; \s does not cover them. */
const invisible = /[\u200B-\u200D\u2060\uFEFF\u00AD]/g;

export function normalizeName(s: string): string {
  return s
    .normalize('NFKC') // full-width letters, digits and （） become ASCII; U+3000 becomes a space
    .replace(invisible, '')
    .replace(/\s+/gu, '')
    .replace(/[a-z]+/g, (m) => m.toUpperCase());
}

export function sameName(a: string, b: string): boolean {
  return normalizeName(a) === normalizeName(b);
}
