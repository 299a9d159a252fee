// Request and response schemas of the registry; they also produce its OpenAPI document.
import { domainToASCII } from 'node:url';
import { z } from 'zod';
import { creditGradeCharsMax, creditGradePattern, creditReductionPercentMax, creditReductionsPerSectionMax } from '../domain/creditReduction';
import { amountString, currencySchema, idParam, isoDateTime, listQuery, text } from '../http/schemas';

export const usccSchema = z.string().length(18).regex(/^[0-9A-Z]{18}$/, '18 characters: digits and capital letters').meta({ example: '91330100716105852F' });
export const bankCodeSchema = z.string().regex(/^\d{12}$/, '12 digits (CNAPS)').meta({ example: '102100099996' });
export const accountNumberSchema = z.string().regex(/^\d{6,32}$/, '6–32 digits').meta({ example: '6222020200001234567' });
export const certificatePemSchema = z.string().min(100).max(16 * 1024);
/** A URL we store and later call: long enough for any endpoint, short enough to refuse junk. */
export const urlCharsMax = 2048;

/** A registered URL as it will be stored and called, or what is wrong with it. NFKC first, so
 *  that look-alike characters become what they look like ("http://１27.0.0.1", fullwidth digits,
 *  is http://127.0.0.1); then the WHATWG parse (what the HTTP client will do) and IDNA to ASCII
 *  for the host, so every check and the stored value see the address actually called, not a
 *  spelling of it that a rule on hosts could be fooled by. Userinfo is refused: a password in a
 *  URL would be stored, shown and audited in plain text. */
export function normalizeHttpUrl(input: string): { url: string } | { problem: string } {
  const nfkc = input.normalize('NFKC').trim();
  let url: URL;
  try {
    url = new URL(nfkc);
  } catch {
    return { problem: 'not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: 'must be an http or https URL' };
  if (url.username || url.password) return { problem: 'must not carry a user name or password' };
  if (!url.hostname.startsWith('[')) {
    const ascii = domainToASCII(url.hostname);
    if (!ascii) return { problem: `host ${JSON.stringify(url.hostname)} is not a valid domain name` };
    url.hostname = ascii;
  }
  // The parser writes a bare origin with a path of "/"; keep the form the caller gave.
  const bareOrigin = url.pathname === '/' && !url.search && !url.hash && !/^[a-z]+:\/\/[^/?#]*\/$/i.test(nfkc);
  const out = bareOrigin ? url.href.slice(0, -1) : url.href;
  if (out.length > urlCharsMax) return { problem: `longer than ${urlCharsMax} characters once normalised` };
  return { url: out };
}

const httpUrl = z
  .string()
  .max(urlCharsMax)
  .transform((v, ctx) => {
    const r = normalizeHttpUrl(v);
    if ('problem' in r) {
      ctx.addIssue({ code: 'custom', message: r.problem });
      return z.NEVER;
    }
    return r.url;
  })
  .meta({ format: 'uri', example: 'https://bank.example.cn/h2h' });

export const tendereeCreate = z.strictObject({ name: text(200), uscc: usccSchema });
export const tendereeOut = z.object({ id: z.string(), object: z.literal('tenderee'), name: z.string(), uscc: z.string(), createdAt: z.string() });

export const bidderCreate = z.strictObject({
  name: text(200),
  uscc: usccSchema,
  basicAccount: z.strictObject({ bankCode: bankCodeSchema, number: accountNumberSchema, name: text(200) }),
});
export const bidderOut = z.object({
  id: z.string(),
  object: z.literal('bidder'),
  name: z.string(),
  uscc: z.string(),
  basicAccount: z.object({ bankCode: z.string(), number: z.string(), name: z.string() }),
  createdAt: z.string(),
});

export const certificateOut = z.object({
  fingerprint: z.string(),
  subject: z.string(),
  issuer: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  retiredAt: z.string().nullable(),
});

export const issuerKinds = ['bank', 'insurance', 'guarantor'] as const;
export const issuerCreate = z
  .strictObject({
    name: text(200),
    kind: z.enum(issuerKinds),
    bankCode: bankCodeSchema.optional(),
    certificatePem: certificatePemSchema,
    callbackUrl: httpUrl.optional(),
  })
  .refine((v) => v.kind !== 'bank' || v.bankCode !== undefined, { message: 'bankCode is required for a bank issuer', path: ['bankCode'] });
export const issuerOut = z.object({
  id: z.string(),
  object: z.literal('issuer'),
  name: z.string(),
  kind: z.enum(issuerKinds),
  bankCode: z.string().nullable(),
  callbackUrl: z.string().nullable(),
  certificates: z.array(certificateOut),
  createdAt: z.string(),
});

export const bankAdapters = ['iso20022', 'cn-h2h', 'sandbox'] as const;
export const bankCreate = z.strictObject({
  name: text(200),
  bankCode: bankCodeSchema,
  adapter: z.enum(bankAdapters),
  endpoint: httpUrl,
  certificatePem: certificatePemSchema,
  trustAccount: z.strictObject({ number: accountNumberSchema, name: text(200) }),
  virtualAccountPrefix: z.string().regex(/^\d{4,16}$/, '4–16 digits'),
});
export const bankOut = z.object({
  id: z.string(),
  object: z.literal('bank'),
  name: z.string(),
  bankCode: z.string(),
  adapter: z.enum(bankAdapters),
  endpoint: z.string(),
  trustAccount: z.object({ number: z.string(), name: z.string() }),
  virtualAccountPrefix: z.string(),
  certificates: z.array(certificateOut),
  createdAt: z.string(),
});

export const certificateAdd = z.strictObject({ certificatePem: certificatePemSchema });
export const fingerprintParam = z.string().regex(/^[0-9a-f]{64}$/);

export const regimes = ['tendering_law', 'government_procurement'] as const;
export const securityKinds = ['cash', 'bank', 'insurance', 'guarantor'] as const;
export const guaranteeBankMatches = ['bank', 'branch', 'off'] as const;
/** Bid validity is typically 60–120 days; a year bounds typos. */
export const bidValidityDaysMax = 365;

export const sectionCreate = z.strictObject({
  projectCode: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'letters, digits and - (1–64)'),
  sectionCode: z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'letters, digits and - (1–64)'),
  name: text(300),
  tendereeId: idParam('tnd'),
  regime: z.enum(regimes),
  estimatedPrice: amountString,
  depositAmount: amountString,
  /** R1's absolute cap for this section (works sections commonly ¥800,000). */
  depositCap: amountString.optional(),
  currency: currencySchema,
  bidDeadline: isoDateTime,
  bidValidityDays: z.number().int().min(1).max(bidValidityDaysMax),
  depositBankId: idParam('bnk').optional(),
  acceptedSecurity: z
    .array(z.enum(securityKinds))
    .min(1)
    .max(securityKinds.length)
    .refine((a) => new Set(a).size === a.length, 'kinds must not repeat'),
  guaranteeBankMatch: z.enum(guaranteeBankMatches).default('bank'),
  /** 按信用等级降低保证金: the security of a bidder holding `grade` at the bid deadline is reduced
   *  by `percent` (R4); 100 exempts it whole (信用免缴投标保证金). */
  creditReductions: z
    .array(
      z.strictObject({
        grade: z.string().max(creditGradeCharsMax).regex(creditGradePattern, 'capital letters, digits, + and -').meta({ example: 'AAA' }),
        percent: z.number().int().min(0).max(creditReductionPercentMax),
      }),
    )
    .max(creditReductionsPerSectionMax)
    .refine((a) => new Set(a.map((r) => r.grade)).size === a.length, 'grades must not repeat')
    .default([]),
});
export const creditReductionOut = z.object({ grade: z.string(), percent: z.number() });
export const sectionOut = z.object({
  id: z.string(),
  object: z.literal('section'),
  projectCode: z.string(),
  sectionCode: z.string(),
  name: z.string(),
  tendereeId: z.string(),
  regime: z.enum(regimes),
  estimatedPrice: z.string(),
  depositAmount: z.string(),
  depositCap: z.string().nullable(),
  currency: z.literal('CNY'),
  bidDeadline: z.string(),
  bidValidityDays: z.number(),
  depositBankId: z.string().nullable(),
  acceptedSecurity: z.array(z.enum(securityKinds)),
  guaranteeBankMatch: z.enum(guaranteeBankMatches),
  creditReductions: z.array(creditReductionOut),
  status: z.string(),
  createdAt: z.string(),
});

export const sectionStatuses = ['open', 'opened', 'awarded', 'contracted', 'closed', 'terminated'] as const;
export const sectionListQuery = listQuery.extend({ status: z.enum(sectionStatuses).optional(), tendereeId: idParam('tnd').optional() });
