// Unified Social Credit Code (统一社会信用代码), GB 32100-2015: 1 registration-authority
// char, 1 organisation-type char, 6-digit administrative division, 9-char organisation code,
// 1 check char over the first 17 (weights 3^(i-1) mod 31, check = 31 - sum mod 31).

export const usccCharset = '0123456789ABCDEFGHJKLMNPQRTUWXY';
const weights = Array.from({ length: 17 }, (_, i) => {
  let w = 1;
  for (let k = 0; k < i; k++) w = (w * 3) % 31;
  return w;
});

/** Registration authorities (登记管理部门代码) in GB 32100-2015 and its later assignments:
 *  1 机构编制, 2 外交, 3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会, 9 市场监管(工商),
 *  A 中央军委改革和编制办公室, N 农业, Y 其他. */
const registrationAuthorities = '123456789ANY';

/** Province-level division codes (GB/T 2260) that open digits 3–8, plus 10, which central
 *  registrations use ("100000"). Only the first two digits are checked: divisions are
 *  renumbered over time and a code keeps the division that was current when it was issued. */
const provincePrefixes = new Set([
  '10', '11', '12', '13', '14', '15', '21', '22', '23', '31', '32', '33', '34', '35', '36', '37',
  '41', '42', '43', '44', '45', '46', '50', '51', '52', '53', '54', '61', '62', '63', '64', '65',
  '71', '81', '82',
]);

export type UsccCheck = { ok: true } | { ok: false; reason: string };

export function usccCheckChar(first17: string): string {
  let sum = 0;
  for (let i = 0; i < 17; i++) {
    const v = usccCharset.indexOf(first17[i]);
    if (v < 0) throw new Error(`assertion: ${first17[i]} is not a USCC character`);
    sum += v * weights[i];
  }
  const check = (31 - (sum % 31)) % 31;
  return usccCharset[check];
}

export function validateUscc(s: unknown): UsccCheck {
  if (typeof s !== 'string') return { ok: false, reason: 'must be a string' };
  if (s.length !== 18) return { ok: false, reason: `must be 18 characters, got ${s.length}` };
  if (s !== s.toUpperCase()) return { ok: false, reason: 'letters must be upper case' };
  for (let i = 0; i < 18; i++) {
    if (!usccCharset.includes(s[i])) {
      return { ok: false, reason: `character ${i + 1} "${s[i]}" is not allowed (I, O, Z, S and V are never used)` };
    }
  }
  if (!registrationAuthorities.includes(s[0])) {
    return { ok: false, reason: `character 1 "${s[0]}" is not a registration-authority code` };
  }
  // Type codes are 1–9 under every authority so far; the per-authority lists change more
  // often than a validator should, so only the form is checked.
  if (!/^[1-9]$/.test(s[1])) return { ok: false, reason: `character 2 "${s[1]}" is not an organisation-type code` };
  const division = s.slice(2, 8);
  if (!/^\d{6}$/.test(division)) return { ok: false, reason: 'characters 3–8 must be a 6-digit administrative division code' };
  if (!provincePrefixes.has(division.slice(0, 2))) {
    return { ok: false, reason: `characters 3–8 "${division}" do not name a province-level division` };
  }
  const expected = usccCheckChar(s.slice(0, 17));
  if (s[17] !== expected) return { ok: false, reason: 'check character does not match' };
  return { ok: true };
}

export function isValidUscc(s: unknown): boolean {
  return validateUscc(s).ok;
}

/** What a form should do before validating: trim and upper-case. Validation itself stays
 *  strict so that stored codes are always in one canonical form. */
export function normalizeUscc(s: string): string {
  return s.trim().toUpperCase();
}
