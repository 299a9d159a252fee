// Request and response schemas of bidders' credit grades; they also produce the OpenAPI document.
import { z } from 'zod';
import { creditGradeCharsMax, creditGradePattern, creditSourceCharsMax } from '../domain/creditReduction';
import { idParam, isoDate, text } from '../http/schemas';

export const creditGradeSchema = z.string().max(creditGradeCharsMax).regex(creditGradePattern, 'capital letters, digits, + and -').meta({ example: 'AAA' });

export const creditPut = z.strictObject({
  grade: creditGradeSchema,
  /** Who found the grade: the platform or authority, and its document where there is one. */
  source: text(creditSourceCharsMax).meta({ example: '信用中国（浙江）' }),
  /** The days the finding holds, both included (Asia/Shanghai). */
  validFrom: isoDate,
  validTo: isoDate,
});

export const bidderParams = z.strictObject({ id: idParam('bdr') });

export const creditGradeOut = z.object({
  id: z.string(),
  object: z.literal('credit_grade'),
  bidderId: z.string(),
  grade: z.string(),
  source: z.string(),
  validFrom: z.string(),
  validTo: z.string(),
  recordedBy: z.string(),
  recordedAt: z.string(),
});

export const bidderCreditOut = z.object({
  object: z.literal('bidder_credit'),
  bidderId: z.string(),
  /** The finding that holds today, if any. */
  today: creditGradeOut.nullable(),
  /** Findings, most recently recorded first (at most 100); none is ever overwritten. */
  grades: z.array(creditGradeOut),
});
