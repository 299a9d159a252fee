// HTTP for reconciliations. The upload reads the request stream itself (bounded in bytes, never
// buffered whole: a statement can be 100 MiB) inside the reconciliation's own transaction, so
// the route is not one of the framework's transactional ones; the reconciliation is idempotent
// by the statement's identity (service.ts), which is what a retried upload needs.
import type { Request } from 'express';
import { z } from 'zod';
import { BadRequest, NotFound, UnsupportedMediaType, PayloadTooLarge } from '../errors';
import { parseCamt053Stream } from '../banks/iso20022/camt053';
import { defineRoute, type RouteDef } from '../http/route';
import { idParam, isoDate, listEnvelope, listQuery, text } from '../http/schemas';
import { paginate } from '../http/pagination';
import { findBank } from '../registry/repo';
import { reconcileFromBank, reconcileStream, type ReconcileOutcome } from './service';
import { presentException, presentReport, presentSummary, reportPageMax, streamCsv } from './report';
import { resolutionDecisions, resolutionNoteCharsMax, resolveException } from './resolution';

const tags = ['reconciliation'];
/** The pull request's JSON body is two fields. */
export const reconcileJsonBytesMax = 4 * 1024;
export const statementContentTypes = ['application/xml', 'text/xml'] as const;
/** Header naming the bank of an uploaded statement (or the `bankId` query parameter). */
export const bankIdHeader = 'bidbond-bank-id';

const pullBody = z.strictObject({ bankId: idParam('bnk'), date: isoDate });
const uploadQuery = z.strictObject({ bankId: idParam('bnk').optional() });
const idOf = z.strictObject({ id: idParam('rcn') });
const reportQuery = z.strictObject({
  linesLimit: z.coerce.number().int().min(1).max(reportPageMax).default(100),
  linesAfter: z.string().regex(/^\d{1,18}$/).optional(),
  exceptionsAfter: z.string().regex(/^\d{1,18}$/).optional(),
});
const listFilter = listQuery.extend({ bankId: idParam('bnk').optional(), date: isoDate.optional() });
const resolutionBody = z.strictObject({
  decision: z.enum(resolutionDecisions),
  note: text(resolutionNoteCharsMax),
  correction: z.strictObject({ counterAccount: z.literal('suspense'), memo: text(200).optional() }).optional(),
});
const summaryOut = z.object({ object: z.literal('reconciliation'), id: z.string() }).passthrough();

async function readJsonBounded(req: Request, bytesMax: number): Promise<unknown> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > bytesMax) throw new PayloadTooLarge(bytesMax);
    parts.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(parts).toString('utf8'));
  } catch {
    throw new BadRequest('malformed_json', 'the request body is not valid JSON');
  }
}

async function loadReconciliation(tx: any, id: string) {
  const r = await tx('reconciliations').where({ id }).first();
  if (!r) throw new NotFound('reconciliation', id);
  return r;
}

const csvRoute = (path: string, operationId: string) =>
  defineRoute({
    method: 'get', path, operationId, summary: 'Every line of a reconciliation as CSV', tags, access: { roles: ['centre', 'auditor'] }, params: idOf, produces: ['text/csv'],
    handler: async ({ tx, params, res, deps }) => {
      await streamCsv(deps.db, await loadReconciliation(tx, params.id), res);
      return { sent: true };
    },
  });

export const reconciliationRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'post', path: '/v1/reconciliations', operationId: 'createReconciliation',
    summary: 'Reconcile a day: JSON {bankId, date} pulls the statement through the bank adapter; a camt.053 body (.001.08 or .001.02, ?bankId= or Bidbond-Bank-Id) is reconciled as uploaded',
    tags, access: { roles: ['centre'] }, query: uploadQuery, bodyMode: { kind: 'none' }, transactional: false, idempotent: false, response: summaryOut, successStatus: 201,
    handler: async ({ req, query, caller, deps }) => {
      const actor = { type: 'centre' as const, id: caller.keyId };
      const ct = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      let outcome: ReconcileOutcome;
      if (ct === 'application/json') {
        const parsed = pullBody.safeParse(await readJsonBounded(req, reconcileJsonBytesMax));
        if (!parsed.success) throw new BadRequest('invalid_field', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
        outcome = await reconcileFromBank(deps, parsed.data.bankId, parsed.data.date, { source: 'pull', actor });
      } else if ((statementContentTypes as readonly string[]).includes(ct)) {
        const bankId = query.bankId ?? req.get(bankIdHeader);
        if (!bankId || !idParam('bnk').safeParse(bankId).success) throw new BadRequest('missing_field', 'name the bank: ?bankId=bnk_… or the Bidbond-Bank-Id header', 'bankId');
        const bank = await findBank(deps.db, bankId);
        if (!bank) throw new NotFound('bank', bankId);
        outcome = await reconcileStream(deps.db, bank, req, parseCamt053Stream, { source: 'upload', actor });
      } else {
        throw new UnsupportedMediaType(['application/json', ...statementContentTypes].join(' or '));
      }
      deps.outbox.kick();
      const r = await loadReconciliation(deps.db, outcome.reconciliationId);
      return { status: outcome.created ? 201 : 200, body: presentSummary(r), headers: outcome.created ? {} : { 'Idempotent-Replayed': 'true' } };
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/reconciliations', operationId: 'listReconciliations', summary: 'Reconciliations, newest last (filters: bankId, date)', tags,
    access: { roles: ['centre', 'auditor'] }, query: listFilter, response: listEnvelope(summaryOut),
    handler: async ({ tx, query }) => {
      const q = tx('reconciliations');
      if (query.bankId) q.where({ bank_id: query.bankId });
      if (query.date) q.where({ statement_date: query.date });
      return paginate(q, query, presentSummary);
    },
  }),
  // Before '/:id', which would otherwise take "rcn_….csv" as an id and answer 404.
  csvRoute('/v1/reconciliations/:id.csv', 'getReconciliationCsv'),
  csvRoute('/v1/reconciliations/:id/csv', 'getReconciliationCsvAlias'),
  defineRoute({
    method: 'get', path: '/v1/reconciliations/:id', operationId: 'getReconciliation',
    summary: 'A reconciliation: summary, balances, every exception and line with what the bank and the ledger said (paged)', tags,
    access: { roles: ['centre', 'auditor'] }, params: idOf, query: reportQuery, response: summaryOut,
    handler: async ({ tx, params, query }) => presentReport(tx, await loadReconciliation(tx, params.id), query),
  }),
  defineRoute({
    method: 'post', path: '/v1/reconciliations/:id/exceptions/:exceptionId/resolution', operationId: 'resolveReconciliationException',
    summary: 'Resolve an exception with a recorded decision; "corrected" posts a correcting journal (trust ↔ suspense), never an edit', tags,
    access: { roles: ['centre'] }, params: z.strictObject({ id: idParam('rcn'), exceptionId: z.string().regex(/^\d{1,18}$/) }), body: resolutionBody,
    handler: async ({ tx, caller, params, body }) => presentException(await resolveException(tx as never, caller, params.id, params.exceptionId, body)),
  }),
];
