// The cn-h2h adapter: a Chinese bank's own host-to-host interface (JSON with a trade-code
// header), over the HTTP contract in ../adapters.ts.
import type { Readable } from 'node:stream';
import { BankMessageInvalid, BankUnreachable, type BankAdapter, type BankConnection, type StatementEntry, type StatementQuery, type StatementSummary, type StatusReport, type SubmitResult, type TransferBatch } from '../types';
import { allUnknown, bankRequest, bankResponseBytesMax, completeStatusReport, joinUrl, snippet, unreadableIsUnknown, type BankResponse } from '../http';
import { parseNotification } from '../notifications';
import {
  cnh2hBuildPaymentRequest,
  cnh2hBuildStatementQuery,
  cnh2hBuildStatusQuery,
  cnh2hGatewayPath,
  cnh2hParseResponseHead,
  cnh2hParseStatementStream,
  cnh2hParseStatusResponse,
  cnh2hPaymentDetailsMax,
  cnh2hReadJson,
  cnh2hRetCodeBatchNotFound,
  cnh2hRetCodeOk,
  cnh2hRetCodeSystemBusy,
  cnh2hTransCodeBatchPayment,
  cnh2hTransCodeHeader,
  cnh2hTransCodePaymentStatus,
  cnh2hTransCodeStatementQuery,
} from './protocol';

export function cnh2hAdapter(conn: BankConnection): BankAdapter {
  const gateway = joinUrl(conn.endpoint, cnh2hGatewayPath);
  const post = (transCode: string, message: unknown, stream = false) =>
    bankRequest(conn, 'POST', gateway, {
      body: Buffer.from(JSON.stringify(message), 'utf8'),
      headers: { 'content-type': 'application/json; charset=utf-8', [cnh2hTransCodeHeader]: transCode },
      stream,
    });
  /** Reads an answer's head, turning "system busy" into what it means: outcome unknown. */
  const answer = (res: BankResponse, what: string) => {
    if (res.status !== 200) throw new BankMessageInvalid(`${what}: HTTP ${res.status} ${snippet(res.body)}`);
    const json = cnh2hReadJson(res.body!, what);
    const head = cnh2hParseResponseHead(json);
    if (head.retCode === cnh2hRetCodeSystemBusy) throw new BankUnreachable(`${what}: bank busy (${head.retCode} ${head.retMsg}), outcome unknown`);
    return { json, head };
  };
  return {
    protocol: conn.protocol,
    transfersPerMessageMax: cnh2hPaymentDetailsMax,

    async sendTransfers(batch: TransferBatch): Promise<SubmitResult> {
      const res = await post(cnh2hTransCodeBatchPayment, cnh2hBuildPaymentRequest(batch));
      const { json, head } = unreadableIsUnknown(gateway, () => answer(res, 'cn-h2h payment'));
      const report = unreadableIsUnknown(gateway, () => cnh2hParseStatusResponse(json));
      if (report.originalMessageId !== batch.messageId) report.originalMessageId = batch.messageId;
      return { messageId: batch.messageId, accepted: head.retCode === cnh2hRetCodeOk && report.groupStatus !== 'RJCT', report };
    },

    async getStatus(originalMessageId: string, endToEndIds: string[]): Promise<StatusReport> {
      const res = await post(cnh2hTransCodePaymentStatus, cnh2hBuildStatusQuery(originalMessageId, endToEndIds));
      const { json, head } = answer(res, 'cn-h2h status query');
      if (head.retCode === cnh2hRetCodeBatchNotFound) return allUnknown(originalMessageId, endToEndIds);
      const report = cnh2hParseStatusResponse(json);
      if (head.retCode === cnh2hRetCodeOk && report.originalMessageId !== originalMessageId) {
        throw new BankMessageInvalid(`cn-h2h status answers ${report.originalMessageId}, we asked about ${originalMessageId}`);
      }
      report.originalMessageId = originalMessageId;
      return completeStatusReport(report, endToEndIds);
    },

    async fetchStatement(query: StatementQuery): Promise<Readable> {
      const res = await post(cnh2hTransCodeStatementQuery, cnh2hBuildStatementQuery(query), true);
      if (res.status !== 200) throw new BankMessageInvalid(`cn-h2h statement query: HTTP ${res.status} ${snippet(res.body)}`);
      if (/ndjson/i.test(res.contentType)) return res.stream!;
      // A refusal is a single JSON envelope; read it (bounded) and say why.
      const parts: Buffer[] = [];
      let total = 0;
      for await (const chunk of res.stream! as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > bankResponseBytesMax) {
          res.stream!.destroy();
          throw new BankMessageInvalid(`cn-h2h statement refusal exceeds ${bankResponseBytesMax} bytes`);
        }
        parts.push(chunk);
      }
      const body = Buffer.concat(parts);
      const { head } = answer({ ...res, body }, 'cn-h2h statement query');
      throw new BankMessageInvalid(`cn-h2h statement query refused: ${head.retCode} ${head.retMsg}`.trim());
    },

    parseNotification,

    parseStatement(input: Readable, onEntry: (entry: StatementEntry) => void | Promise<void>): Promise<StatementSummary> {
      return cnh2hParseStatementStream(input, onEntry);
    },
  };
}

