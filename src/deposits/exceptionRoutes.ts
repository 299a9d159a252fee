// Bank exceptions over HTTP: the centre (and the auditor) sees what the deposit banks told us
// that a person must look at, and the centre records how each was dealt with. The schemas and
// the presentation live here with the routes, so the exceptions stay one small unit beside the
// deposit routes.
import { z } from 'zod';
import { formatAmount } from '../domain/money';
import { defineRoute, transactionOf, type RouteDef } from '../http/route';
import { idParam, listEnvelope, listQuery, text } from '../http/schemas';
import { bankExceptionKinds, bankExceptionStatuses, type BankExceptionRow } from './exceptionsRepo';
import { bankExceptionNoteCharsMax, getBankException, listBankExceptions, resolveBankException } from './exceptions';

const tags = ['bank exceptions'];

export const bankExceptionParams = z.strictObject({ id: idParam('bex') });
export const bankExceptionListQuery = listQuery.extend({
  bankId: idParam('bnk').optional(),
  kind: z.enum(bankExceptionKinds).optional(),
  status: z.enum(bankExceptionStatuses).optional(),
});
export const bankExceptionResolutionBody = z.strictObject({ note: text(bankExceptionNoteCharsMax) });

export const bankExceptionOut = z.object({
  id: z.string(),
  object: z.literal('bank_exception'),
  bankId: z.string(),
  kind: z.enum(bankExceptionKinds),
  status: z.enum(bankExceptionStatuses),
  entryRef: z.string(),
  messageId: z.string().nullable(),
  amount: z.string().nullable().meta({ example: '50000.00' }),
  currency: z.string().nullable(),
  sectionId: z.string().nullable(),
  bidderId: z.string().nullable(),
  depositId: z.string().nullable(),
  refundId: z.string().nullable(),
  detail: z.string(),
  data: z.record(z.string(), z.unknown()),
  resolution: z.object({ note: z.string(), resolvedBy: z.string().nullable(), resolvedAt: z.string() }).nullable(),
  createdAt: z.string(),
});

export const presentBankException = (x: BankExceptionRow) => ({
  id: x.id,
  object: 'bank_exception' as const,
  bankId: x.bank_id,
  kind: x.kind,
  status: x.status,
  entryRef: x.entry_ref,
  messageId: x.message_id,
  amount: x.amount_fen === null ? null : formatAmount(x.amount_fen),
  currency: x.currency,
  sectionId: x.section_id,
  bidderId: x.bidder_id,
  depositId: x.deposit_id,
  refundId: x.refund_id,
  detail: x.detail,
  data: x.data,
  resolution: x.status === 'resolved' ? { note: x.resolution ?? '', resolvedBy: x.resolved_by, resolvedAt: x.resolved_at!.toISOString() } : null,
  createdAt: x.created_at.toISOString(),
});

export const bankExceptionRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'get', path: '/v1/bank-exceptions', operationId: 'listBankExceptions',
    summary: 'What the deposit banks told us that a person must look at (reversals, returns, references), oldest first', tags,
    access: { roles: ['centre', 'auditor'] }, query: bankExceptionListQuery, response: listEnvelope(bankExceptionOut),
    handler: async ({ tx, query }) => {
      const page = await listBankExceptions(tx, query);
      return { ...page, data: page.data.map(presentBankException) };
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/bank-exceptions/:id', operationId: 'getBankException', summary: 'One bank exception', tags,
    access: { roles: ['centre', 'auditor'] }, params: bankExceptionParams, response: bankExceptionOut,
    handler: async ({ tx, params }) => presentBankException(await getBankException(tx, params.id)),
  }),
  defineRoute({
    method: 'post', path: '/v1/bank-exceptions/:id/resolution', operationId: 'resolveBankException',
    summary: 'Record how a bank exception was dealt with; 409 once it is resolved', tags,
    access: { roles: ['centre'] }, params: bankExceptionParams, body: bankExceptionResolutionBody, response: bankExceptionOut,
    handler: async ({ tx, caller, params, body }) => presentBankException(await resolveBankException(transactionOf(tx), caller, params.id, body.note)),
  }),
];
