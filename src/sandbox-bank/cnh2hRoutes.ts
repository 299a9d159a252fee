// The cn-h2h (银企直联) face of the bank: one gateway, the trade code in X-Trans-Code. As the
// protocol says, a request the bank processed is answered 200 also when it is refused; the
// refusal is in head.retCode.
import express, { Router, type Request, type Response } from 'express';
import {
  cnh2hBodyBytesMax,
  cnh2hBuildErrorResponse,
  cnh2hBuildStatement,
  cnh2hBuildStatusResponse,
  cnh2hErrorCode,
  cnh2hGatewayPath,
  cnh2hParsePaymentRequest,
  cnh2hParseRequestHead,
  cnh2hParseStatementQuery,
  cnh2hParseStatusQuery,
  cnh2hReadJson,
  cnh2hRetCodeBatchNotFound,
  cnh2hRetCodeDuplicateBatch,
  cnh2hRetCodeFormatError,
  cnh2hTransCodeBatchPayment,
  cnh2hTransCodeHeader,
  cnh2hTransCodePaymentStatus,
  cnh2hTransCodeStatementQuery,
} from '../banks/cnh2h/protocol';
import type { StatusReport, TransferBatch } from '../banks/types';
import type { SandboxContext } from './context';
import { SandboxError, reasonCodes } from './errors';
import { HeldResponses, http500Fault } from './httpSupport';
import { receiveBatch, statusReport } from './payments';
import { streamStatement } from './statements';

/** The request's serial, for echoing in a refusal; empty when the envelope is unreadable. */
function reqSeqNoOf(body: Buffer): string {
  try {
    return cnh2hParseRequestHead(cnh2hReadJson(body, 'cn-h2h request')).reqSeqNo;
  } catch {
    return '';
  }
}

function refuse(res: Response, transCode: string, reqSeqNo: string, retCode: string, retMsg: string): void {
  res.status(200).json(cnh2hBuildErrorResponse(transCode, reqSeqNo, retCode, retMsg));
}

/** cn-h2h reports a whole batch as failed only when it was refused as a whole; a batch whose
 *  details all failed one by one is "done" with failed details. */
function forCnh2h(report: StatusReport): StatusReport {
  if (report.groupStatus === 'RJCT' && report.groupReasonCode) return report;
  const { groupStatus: _dropped, ...rest } = report;
  return rest;
}

export function cnh2hRoutes(ctx: SandboxContext, held: HeldResponses): Router {
  const router = Router();
  router.post(cnh2hGatewayPath, http500Fault(ctx), express.raw({ type: () => true, limit: cnh2hBodyBytesMax }), async (req: Request, res: Response) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    const transCode = String(req.get(cnh2hTransCodeHeader) ?? '');
    const reqSeqNo = reqSeqNoOf(body);
    let declared: string | undefined;
    try {
      declared = cnh2hParseRequestHead(cnh2hReadJson(body, 'cn-h2h request')).transCode;
    } catch (e) {
      return refuse(res, transCode, reqSeqNo, cnh2hRetCodeFormatError, (e as Error).message);
    }
    if (declared !== transCode) {
      return refuse(res, transCode, reqSeqNo, cnh2hRetCodeFormatError, `${cnh2hTransCodeHeader} ${transCode || '(missing)'} differs from head.transCode ${declared}`);
    }
    switch (transCode) {
      case cnh2hTransCodeBatchPayment:
        return batchPayment(ctx, held, res, body, reqSeqNo);
      case cnh2hTransCodePaymentStatus:
        return paymentStatus(ctx, res, body, reqSeqNo);
      case cnh2hTransCodeStatementQuery:
        return statementQuery(ctx, res, body, reqSeqNo);
      default:
        return refuse(res, transCode, reqSeqNo, cnh2hRetCodeFormatError, `unknown trade code ${transCode}`);
    }
  });
  return router;
}

async function batchPayment(ctx: SandboxContext, held: HeldResponses, res: Response, body: Buffer, reqSeqNo: string): Promise<void> {
  let batch: TransferBatch;
  try {
    batch = cnh2hParsePaymentRequest(body);
  } catch (e) {
    return refuse(res, cnh2hTransCodeBatchPayment, reqSeqNo, cnh2hRetCodeFormatError, (e as Error).message);
  }
  const result = await receiveBatch(ctx, batch, 'cn-h2h');
  if (result.kind === 'duplicate') {
    return refuse(res, cnh2hTransCodeBatchPayment, reqSeqNo, cnh2hRetCodeDuplicateBatch, `batch ${batch.messageId} was already received`);
  }
  const answer = cnh2hBuildStatusResponse(forCnh2h(result.report), { transCode: cnh2hTransCodeBatchPayment, reqSeqNo });
  // timeoutRate: recorded and settling, but answered too late (see isoRoutes).
  if (ctx.faults.roll('timeout')) return held.hold(res, ctx.config.timeoutHangMs, () => res.status(200).json(answer));
  res.status(200).json(answer);
}

async function paymentStatus(ctx: SandboxContext, res: Response, body: Buffer, reqSeqNo: string): Promise<void> {
  let query: ReturnType<typeof cnh2hParseStatusQuery>;
  try {
    query = cnh2hParseStatusQuery(body);
  } catch (e) {
    return refuse(res, cnh2hTransCodePaymentStatus, reqSeqNo, cnh2hRetCodeFormatError, (e as Error).message);
  }
  const report = await statusReport(ctx, query.originalMessageId, query.endToEndIds);
  if (!report) return refuse(res, cnh2hTransCodePaymentStatus, reqSeqNo, cnh2hRetCodeBatchNotFound, `batch ${query.originalMessageId} was never received`);
  res.status(200).json(cnh2hBuildStatusResponse(forCnh2h(report), { transCode: cnh2hTransCodePaymentStatus, reqSeqNo }));
}

async function statementQuery(ctx: SandboxContext, res: Response, body: Buffer, reqSeqNo: string): Promise<void> {
  let query: ReturnType<typeof cnh2hParseStatementQuery>;
  try {
    query = cnh2hParseStatementQuery(body);
  } catch (e) {
    return refuse(res, cnh2hTransCodeStatementQuery, reqSeqNo, cnh2hRetCodeFormatError, (e as Error).message);
  }
  try {
    await streamStatement(ctx, query, (header, entries) => cnh2hBuildStatement(header, entries, { reqSeqNo }), res, () => {
      res.status(200).type('application/x-ndjson; charset=utf-8');
    });
    res.end();
  } catch (e) {
    if (!(e instanceof SandboxError) || res.headersSent) throw e;
    const retCode = e.code === 'account_not_found' ? cnh2hErrorCode(reasonCodes.AC01) : cnh2hRetCodeFormatError;
    refuse(res, cnh2hTransCodeStatementQuery, reqSeqNo, retCode, e.message);
  }
}
