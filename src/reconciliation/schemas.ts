// Request and response schemas of the reconciliation API; they also produce its OpenAPI document.
import { z } from 'zod';
import { voucherRefsOut } from '../vouchers/schemas';
import { idParam, isoDate, listQuery, text } from '../http/schemas';
import { resolutionDecisions, resolutionNoteCharsMax } from './resolution';
import { reportPageMax } from './service';

/** The pull request's JSON body is two fields. */
export const reconcileJsonBytesMax = 4 * 1024;
export const statementContentTypes = ['application/xml', 'text/xml'] as const;
/** Header naming the bank of an uploaded statement (or the `bankId` query parameter). */
export const bankIdHeader = 'bidbond-bank-id';

export const pullBody = z.strictObject({ bankId: idParam('bnk'), date: isoDate });
export const uploadQuery = z.strictObject({ bankId: idParam('bnk').optional() });
export const reconciliationParams = z.strictObject({ id: idParam('rcn') });
export const exceptionParams = z.strictObject({ id: idParam('rcn'), exceptionId: z.string().regex(/^\d{1,18}$/) });
export const reportQuery = z.strictObject({
  linesLimit: z.coerce.number().int().min(1).max(reportPageMax).default(100),
  linesAfter: z.string().regex(/^\d{1,18}$/).optional(),
  exceptionsAfter: z.string().regex(/^\d{1,18}$/).optional(),
});
export const listFilter = listQuery.extend({ bankId: idParam('bnk').optional(), date: isoDate.optional() });
export const resolutionBody = z.strictObject({
  decision: z.enum(resolutionDecisions),
  note: text(resolutionNoteCharsMax),
  correction: z.strictObject({ counterAccount: z.literal('suspense'), memo: text(200).optional() }).optional(),
});
export const summaryOut = z.object({ object: z.literal('reconciliation'), id: z.string(), vouchers: voucherRefsOut }).passthrough();
