// HTTP for reconciliations. The upload reads the request stream itself (bounded in bytes, never
// buffered whole: a statement can be 100 MiB) inside the reconciliation's own transaction, so
// the route is not one of the framework's transactional ones; the reconciliation is idempotent
// by the statement's identity (service.ts), which is what a retried upload needs.
import type { Request } from 'express';
import { BadRequest, UnsupportedMediaType, PayloadTooLarge } from '../errors';
import { parseCamt053Stream } from '../banks/iso20022/camt053';
import { defineRoute, transactionOf, type RouteDef } from '../http/route';
import { idParam, listEnvelope } from '../http/schemas';
import { csvColumns, csvRow, presentException, presentReport, presentSummaryWithVouchers } from './present';
import { vouchersOfSubjects } from '../vouchers/subjects';
import { resolveException } from './resolution';
import * as s from './schemas';
import * as service from './service';

const tags = ['reconciliation'];

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

const csvRoute = (path: string, operationId: string) =>
  defineRoute({
    method: 'get', path, operationId, summary: 'Every line of a reconciliation as CSV', tags, access: { roles: ['centre', 'auditor'] }, params: s.reconciliationParams, produces: ['text/csv'],
    handler: async ({ tx, params, res, deps }) => {
      const r = await service.getReconciliation(tx, params.id);
      res.status(200);
      res.setHeader('Content-Type', 'text/csv; charset=utf-8');
      res.setHeader('Content-Disposition', `attachment; filename="${r.id}.csv"`);
      // A BOM so spreadsheet programs read the Chinese names as UTF-8.
      res.write(`\uFEFF${csvColumns.join(',')}\r\n`);
      for await (const rows of service.reconciliationLines(deps.db, r)) {
        if (!res.write(`${rows.map(csvRow).join('\r\n')}\r\n`)) await new Promise<void>((resolve) => res.once('drain', resolve));
      }
      res.end();
      return { sent: true };
    },
  });

export const reconciliationRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'post', path: '/v1/reconciliations', operationId: 'createReconciliation',
    summary: 'Reconcile a day: JSON {bankId, date} pulls the statement through the bank adapter; a camt.053 body (.001.08 or .001.02, ?bankId= or Bidbond-Bank-Id) is reconciled as uploaded',
    tags, access: { roles: ['centre'] }, query: s.uploadQuery, bodyMode: { kind: 'none' }, transactional: false, idempotent: false, response: s.summaryOut, successStatus: 201,
    handler: async ({ req, query, caller, deps }) => {
      const actor = { type: 'centre' as const, id: caller.keyId };
      const ct = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      let outcome: service.ReconcileOutcome;
      if (ct === 'application/json') {
        const parsed = s.pullBody.safeParse(await readJsonBounded(req, s.reconcileJsonBytesMax));
        if (!parsed.success) throw new BadRequest('invalid_field', parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
        outcome = await service.reconcileFromBank(deps, parsed.data.bankId, parsed.data.date, { source: 'pull', actor });
      } else if ((s.statementContentTypes as readonly string[]).includes(ct)) {
        const bankId = query.bankId ?? req.get(s.bankIdHeader);
        if (!bankId || !idParam('bnk').safeParse(bankId).success) throw new BadRequest('missing_field', 'name the bank: ?bankId=bnk_… or the Bidbond-Bank-Id header', 'bankId');
        outcome = await service.reconcileUpload(deps, bankId, req, parseCamt053Stream, { source: 'upload', actor });
      } else {
        throw new UnsupportedMediaType(['application/json', ...s.statementContentTypes].join(' or '));
      }
      deps.outbox.kick();
      const r = await service.getReconciliation(deps.db, outcome.reconciliationId);
      const vouchers = (await vouchersOfSubjects(deps.db, { reconciliation: [r.id] })).of('reconciliation', r.id);
      return { status: outcome.created ? 201 : 200, body: presentSummaryWithVouchers(r, vouchers), headers: outcome.created ? {} : { 'Idempotent-Replayed': 'true' } };
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/reconciliations', operationId: 'listReconciliations', summary: 'Reconciliations, newest last (filters: bankId, date)', tags,
    access: { roles: ['centre', 'auditor'] }, query: s.listFilter, response: listEnvelope(s.summaryOut),
    handler: async ({ tx, query }) => {
      const page = await service.listReconciliations(tx, query);
      const vouchers = await vouchersOfSubjects(tx, { reconciliation: page.data.map((r) => r.id) });
      return { ...page, data: page.data.map((r) => presentSummaryWithVouchers(r, vouchers.of('reconciliation', r.id))) };
    },
  }),
  // Before '/:id', which would otherwise take "rcn_….csv" as an id and answer 404.
  csvRoute('/v1/reconciliations/:id.csv', 'getReconciliationCsv'),
  csvRoute('/v1/reconciliations/:id/csv', 'getReconciliationCsvAlias'),
  defineRoute({
    method: 'get', path: '/v1/reconciliations/:id', operationId: 'getReconciliation',
    summary: 'A reconciliation: summary, balances, every exception and line with what the bank and the ledger said (paged)', tags,
    access: { roles: ['centre', 'auditor'] }, params: s.reconciliationParams, query: s.reportQuery, response: s.summaryOut,
    handler: async ({ tx, params, query }) => {
      const r = await service.getReport(tx, params.id, query);
      const vouchers = (await vouchersOfSubjects(tx, { reconciliation: [r.reconciliation.id] })).of('reconciliation', r.reconciliation.id);
      return presentReport(r.reconciliation, r.statement, r.openExceptions, r.exceptions, r.lines, vouchers);
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/reconciliations/:id/exceptions/:exceptionId/resolution', operationId: 'resolveReconciliationException',
    summary: 'Resolve an exception with a recorded decision; "corrected" posts a correcting journal (trust ↔ suspense), never an edit', tags,
    access: { roles: ['centre'] }, params: s.exceptionParams, body: s.resolutionBody,
    handler: async ({ tx, caller, params, body }) => presentException(await resolveException(transactionOf(tx), caller, params.id, params.exceptionId, body)),
  }),
];
