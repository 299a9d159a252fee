// CNAPS bank codes (支付系统行号 / 联行号): 12 digits = 3-digit bank category, 4-digit city,
// 4-digit serial, and an ISO 7064 MOD 11,10 check digit over the first 11.

export type BankCodeCheck = { ok: true } | { ok: false; reason: string };
export type GuaranteeBankMatch = 'bank' | 'branch' | 'off';

/** ISO 7064 hybrid MOD 11,10: the check digit for a string of decimal digits. */
export function iso7064Mod1110CheckDigit(digits: string): number {
  if (!/^\d+$/.test(digits)) throw new Error('assertion: ISO 7064 MOD 11,10 takes decimal digits');
  let p = 10;
  for (const ch of digits) {
    let s = (p + Number(ch)) % 10;
    if (s === 0) s = 10;
    p = (s * 2) % 11;
  }
  return (11 - p) % 10;
}

export function validateBankCode(code: unknown): BankCodeCheck {
  if (typeof code !== 'string') return { ok: false, reason: 'must be a string of 12 digits' };
  if (!/^\d{12}$/.test(code)) return { ok: false, reason: 'must be exactly 12 digits' };
  if (iso7064Mod1110CheckDigit(code.slice(0, 11)) !== Number(code[11])) {
    return { ok: false, reason: 'check digit does not match (ISO 7064 MOD 11,10)' };
  }
  return { ok: true };
}

export function isValidBankCode(code: unknown): boolean {
  return validateBankCode(code).ok;
}

export function bankCategory(code: string): string {
  if (!/^\d{3}/.test(code)) throw new Error(`assertion: not a bank code: ${JSON.stringify(code.slice(0, 20))}`);
  return code.slice(0, 3);
}

/** Categories shared by many independent legal persons: 313 城市商业银行, 314 农村商业银行,
 *  317 农村合作银行, 320 村镇银行, 402 农村信用合作社. Two codes under one of these may
 *  belong to two unrelated banks, so only the full code identifies the bank (R6). */
const categoryOnlyPrefixes = new Set(['313', '314', '317', '320', '402']);

export function namesOnlyCategory(code: string): boolean {
  return categoryOnlyPrefixes.has(bankCategory(code));
}

/** For messages only: a category code's usual name. */
export const bankCategoryNames: Readonly<Record<string, string>> = Object.freeze({
  '001': '中国人民银行',
  '011': '国家金库',
  '102': '中国工商银行 (ICBC)',
  '103': '中国农业银行 (ABC)',
  '104': '中国银行 (BOC)',
  '105': '中国建设银行 (CCB)',
  '201': '国家开发银行',
  '202': '中国进出口银行',
  '203': '中国农业发展银行',
  '301': '交通银行',
  '302': '中信银行',
  '303': '中国光大银行',
  '304': '华夏银行',
  '305': '中国民生银行',
  '306': '广发银行',
  '307': '平安银行',
  '308': '招商银行',
  '309': '兴业银行',
  '310': '上海浦东发展银行',
  '313': '城市商业银行',
  '314': '农村商业银行',
  '315': '恒丰银行',
  '316': '浙商银行',
  '317': '农村合作银行',
  '318': '渤海银行',
  '319': '徽商银行',
  '320': '村镇银行',
  '402': '农村信用合作社',
  '403': '中国邮政储蓄银行',
});

export function bankCategoryName(code: string): string {
  const category = bankCategory(code);
  return bankCategoryNames[category] ?? `bank category ${category}`;
}

/** R6: whether a bank guarantee's issuing bank is the bidder's basic-account bank, under the
 *  section's `guaranteeBankMatch` policy. `bank` compares the 3-digit category where that
 *  names one bank (any ICBC branch may issue for an ICBC account holder) and the full code
 *  where it names only a kind of bank; `branch` always compares the full code. */
export function sameBankForGuarantee(
  issuingBankCode: string,
  basicAccountBankCode: string,
  policy: GuaranteeBankMatch,
): { ok: boolean; detail: string } {
  if (policy === 'off') return { ok: true, detail: 'R6 not applied: the section does not require the basic-account bank' };
  for (const [what, code] of [['issuing bank code', issuingBankCode], ['basic-account bank code', basicAccountBankCode]] as const) {
    const check = validateBankCode(code);
    if (!check.ok) return { ok: false, detail: `${what} ${JSON.stringify(code)} is invalid: ${check.reason}` };
  }
  const issuing = `${bankCategoryName(issuingBankCode)} ${issuingBankCode}`;
  const basic = `${bankCategoryName(basicAccountBankCode)} ${basicAccountBankCode}`;
  if (policy === 'branch' || namesOnlyCategory(issuingBankCode) || namesOnlyCategory(basicAccountBankCode)) {
    const ok = issuingBankCode === basicAccountBankCode;
    const categoryOnly = namesOnlyCategory(issuingBankCode) ? issuingBankCode : basicAccountBankCode;
    const why = policy === 'branch'
      ? 'the section requires the same branch'
      : `${bankCategory(categoryOnly)} names only a category of banks, so the branch code must match`;
    return ok
      ? { ok, detail: `issued by the basic-account bank branch ${basic}` }
      : { ok, detail: `issuing bank ${issuing} is not the basic-account bank ${basic} (${why})` };
  }
  if (policy !== 'bank') throw new Error(`assertion: unknown guaranteeBankMatch ${String(policy)}`);
  const ok = bankCategory(issuingBankCode) === bankCategory(basicAccountBankCode);
  return ok
    ? { ok, detail: `issued by ${issuing}, the same bank as the basic account at ${basic}` }
    : { ok, detail: `issuing bank ${issuing} is not the basic-account bank ${basic}` };
}
