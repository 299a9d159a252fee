// Writing bank XML: the codecs build messages as text, so values are escaped and cut to the
// schema's lengths here.

/** Escapes text and attribute values; strips characters XML 1.0 cannot carry at all, which a
 *  name typed into a bank form occasionally contains (control characters). */
export function escapeXml(value: string): string {
  return value
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

/** Truncation by Unicode code point (what xs:maxLength counts), never splitting a surrogate pair. */
export function truncateToChars(value: string, charsMax: number): string {
  const chars = Array.from(value);
  return chars.length <= charsMax ? value : chars.slice(0, charsMax).join('');
}
