// The ISO 20022 adapter: pain.001 out, pain.002 and camt.053 in, over the HTTP contract in
// ../adapters.ts. The sandbox bank speaks it too.
import type { Readable } from 'node:stream';
import { BankMessageInvalid, BankUnreachable, type BankAdapter, type BankConnection, type StatementEntry, type StatementQuery, type StatementSummary, type StatusReport, type SubmitResult, type TransferBatch } from '../types';
import { allUnknown, bankRequest, completeStatusReport, joinUrl, snippet, unreadableIsUnknown } from '../http';
import { parseNotification } from '../notifications';
import { buildPain001, pain001TransfersMax } from './pain001';
import { parsePain002 } from './pain002';
import { parseCamt053Stream } from './camt053';

export function isoAdapter(conn: BankConnection): BankAdapter {
  const xmlHeaders = { 'content-type': 'application/xml; charset=utf-8', accept: 'application/xml' };
  return {
    protocol: conn.protocol,
    transfersPerMessageMax: pain001TransfersMax,

    async sendTransfers(batch: TransferBatch): Promise<SubmitResult> {
      const url = joinUrl(conn.endpoint, '/iso20022/payments');
      const res = await bankRequest(conn, 'POST', url, { body: Buffer.from(buildPain001(batch), 'utf8'), headers: xmlHeaders });
      if (res.status !== 200) {
        // Refused without being processed (bad signature, malformed request): nothing was paid.
        return {
          messageId: batch.messageId,
          accepted: false,
          report: { originalMessageId: batch.messageId, groupStatus: 'RJCT', groupReasonCode: `HTTP${res.status}`, transactions: [] },
        };
      }
      const report = unreadableIsUnknown(url, () => parsePain002(res.body!));
      if (report.originalMessageId !== batch.messageId) {
        throw new BankUnreachable(`${url}: pain.002 answers ${report.originalMessageId}, we sent ${batch.messageId}; outcome unknown`);
      }
      return { messageId: batch.messageId, accepted: report.groupStatus !== 'RJCT', report };
    },

    async getStatus(originalMessageId: string, endToEndIds: string[]): Promise<StatusReport> {
      const url = joinUrl(conn.endpoint, `/iso20022/payments/${encodeURIComponent(originalMessageId)}/status`);
      const res = await bankRequest(conn, 'GET', url, { headers: { accept: 'application/xml' } });
      if (res.status === 404) return allUnknown(originalMessageId, endToEndIds);
      if (res.status !== 200) throw new BankMessageInvalid(`status query refused: HTTP ${res.status} ${snippet(res.body)}`);
      const report = parsePain002(res.body!);
      if (report.originalMessageId !== originalMessageId) {
        throw new BankMessageInvalid(`pain.002 answers ${report.originalMessageId}, we asked about ${originalMessageId}`);
      }
      return completeStatusReport(report, endToEndIds);
    },

    async fetchStatement(query: StatementQuery): Promise<Readable> {
      const qs = new URLSearchParams({ account: query.account, date: query.date });
      const url = joinUrl(conn.endpoint, `/iso20022/statements?${qs.toString()}`);
      const res = await bankRequest(conn, 'GET', url, { headers: { accept: 'application/xml' }, stream: true });
      if (res.status !== 200) throw new BankMessageInvalid(`statement query refused: HTTP ${res.status} ${snippet(res.body)}`);
      return res.stream!;
    },

    parseNotification,

    parseStatement(input: Readable, onEntry: (entry: StatementEntry) => void | Promise<void>): Promise<StatementSummary> {
      return parseCamt053Stream(input, onEntry);
    },
  };
}

