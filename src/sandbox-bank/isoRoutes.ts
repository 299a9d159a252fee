// The ISO 20022 face of the bank: pain.001 in, pain.002 out; camt.053 statements.
import express, { Router, type Request, type Response } from 'express';
import { parsePain001 } from '../banks/iso20022/pain001';
import { buildPain002 } from '../banks/iso20022/pain002';
import { camt053Chunks } from '../banks/iso20022/camt053';
import { xmlBodyBytesMax } from '../banks/xmlLimits';
import type { StatusReport } from '../banks/types';
import type { SandboxContext } from './context';
import { SandboxError, reasonCodes } from './errors';
import { HeldResponses, http500Fault } from './httpSupport';
import { newReportMessageId, receiveBatch, statusFilterIdsMax, statusReport } from './payments';
import { isCalendarDate, streamStatement } from './statements';
import { isStorableText } from './bodies';

const xmlType = 'application/xml; charset=utf-8';

/** The message id of a file we could not read, for the RJCT report; NOTPROVIDED if none. */
function guessMessageId(body: Buffer): string {
  const m = /<(?:[\w.-]+:)?MsgId>\s*([^<\s]{1,35})\s*<\/(?:[\w.-]+:)?MsgId>/.exec(body.subarray(0, 64 * 1024).toString('utf8'));
  return m && /^[\x21-\x7e]{1,35}$/.test(m[1]) ? m[1] : 'NOTPROVIDED';
}

function groupReject(originalMessageId: string, code: string): StatusReport {
  return { messageId: newReportMessageId('R'), originalMessageId, groupStatus: 'RJCT', groupReasonCode: code, transactions: [] };
}

function sendXml(res: Response, xml: string): void {
  res.status(200).type(xmlType).send(xml);
}

function queryIds(value: unknown): string[] {
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  const ids = list.filter((v): v is string => typeof v === 'string' && v !== '').slice(0, statusFilterIdsMax);
  if (!ids.every(isStorableText)) throw new SandboxError(400, 'invalid_request', 'endToEndId must be text without NUL characters', 'endToEndId');
  return ids;
}

export function isoRoutes(ctx: SandboxContext, held: HeldResponses): Router {
  const router = Router();
  router.use('/iso20022', http500Fault(ctx));

  router.post('/iso20022/payments', express.raw({ type: () => true, limit: xmlBodyBytesMax }), async (req: Request, res: Response) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    let batch;
    try {
      batch = parsePain001(body);
    } catch {
      // A file the bank cannot read is refused whole, with the reason, as banks answer it.
      const report = groupReject(guessMessageId(body), reasonCodes.FF01);
      return sendXml(res, buildPain002(report, new Date()));
    }
    const result = await receiveBatch(ctx, batch, 'iso20022');
    if (result.kind === 'duplicate') {
      return sendXml(res, buildPain002(groupReject(batch.messageId, reasonCodes.DU01), new Date()));
    }
    const xml = buildPain002(result.report, new Date());
    // timeoutRate: the file is recorded and will settle, but the answer comes too late for
    // the caller, who must then ask for the status instead of sending again.
    if (ctx.faults.roll('timeout')) return held.hold(res, ctx.config.timeoutHangMs, () => sendXml(res, xml));
    sendXml(res, xml);
  });

  router.get('/iso20022/payments/:messageId/status', async (req: Request, res: Response) => {
    const messageId = String(req.params.messageId);
    // A message id no database text can hold was never received; the database is not asked.
    if (!isStorableText(messageId)) throw new SandboxError(404, 'message_not_found', 'no payment message with that id was ever received');
    const report = await statusReport(ctx, messageId, queryIds(req.query.endToEndId));
    if (!report) throw new SandboxError(404, 'message_not_found', `no payment message ${messageId} was ever received`);
    sendXml(res, buildPain002(report, new Date()));
  });

  router.get('/iso20022/statements', async (req: Request, res: Response) => {
    const account = req.query.account;
    const date = req.query.date;
    if (typeof account !== 'string' || account === '') throw new SandboxError(400, 'invalid_request', 'account is required', 'account');
    if (!isStorableText(account)) throw new SandboxError(400, 'invalid_request', 'account must be text without NUL characters', 'account');
    if (!isCalendarDate(date)) throw new SandboxError(400, 'invalid_request', 'date must be YYYY-MM-DD', 'date');
    await streamStatement(ctx, { account, date }, camt053Chunks, res, () => {
      res.status(200).type(xmlType);
    });
    res.end();
  });

  return router;
}
