import { Readable } from 'node:stream';
import {
  cnh2hBuildCreditNotice,
  cnh2hBuildErrorResponse,
  cnh2hBuildPaymentRequest,
  cnh2hBuildStatement,
  cnh2hBuildStatementQuery,
  cnh2hBuildStatusQuery,
  cnh2hBuildStatusResponse,
  cnh2hErrorToIsoReason,
  cnh2hParseCreditNotice,
  cnh2hParsePaymentRequest,
  cnh2hParseStatementQuery,
  cnh2hParseStatementStream,
  cnh2hParseStatusQuery,
  cnh2hParseStatusResponse,
  cnh2hPaymentDetailsMax,
  cnh2hRetCodeBatchNotFound,
  cnh2hTransCodeBatchPayment,
} from '../../../src/banks/cnh2h/protocol';
import { BankMessageInvalid, type StatementEntry } from '../../../src/banks/types';
import { account19, amountMaxFen, credit, statementEntry, transferBatch, trustAccount } from './fixtures';

const now = new Date('2025-03-01T02:15:00Z');

describe('cn-h2h batch payment (B2E0001)', () => {
  test('the request carries the bank field names, decimal strings and Beijing time', () => {
    const req = cnh2hBuildPaymentRequest(transferBatch(), { custNo: 'C0001' });
    expect(req.head).toEqual({ transCode: 'B2E0001', reqSeqNo: 'RFD-20250301-0001', transDate: '20250301', transTime: '101500', custNo: 'C0001' });
    expect(req.body).toMatchObject({
      batchNo: 'RFD-20250301-0001',
      expDate: '20250301',
      payAcctNo: trustAccount,
      payBankNo: '301290000007',
      ccy: 'CNY',
      totalNum: '3',
      totalAmt: '1000000000050000.00',
    });
    expect(req.body.details[0]).toEqual({
      bizSerialNo: 'RFD-BID-7781-1',
      recvAcctNo: account19,
      recvAcctName: 'Bidder Construction Co Ltd',
      recvBankNo: '102100099996',
      tranAmt: '50000.00',
      postscript: 'Bid deposit refund T-2025-0042 bid 7781',
    });
    expect(req.body.details[2].tranAmt).toBe('999999999999999.99');
  });

  test('the bank reads back the same batch, names cut to 100 characters', () => {
    const batch = transferBatch();
    const back = cnh2hParsePaymentRequest(JSON.stringify(cnh2hBuildPaymentRequest(batch)));
    expect(back.messageId).toBe(batch.messageId);
    expect(back.createdAt.toISOString()).toBe(batch.createdAt.toISOString());
    expect(back.transfers.map((t) => t.amountFen)).toEqual([5_000_000n, 1n, amountMaxFen]);
    expect(back.transfers[0].creditor.accountNumber).toBe(account19);
    expect(Array.from(back.transfers[1].creditor.name)).toHaveLength(100);
  });

  test('control totals that disagree are refused, naming the field', () => {
    const req = cnh2hBuildPaymentRequest(transferBatch());
    req.body.totalAmt = '1.00';
    expect(() => cnh2hParsePaymentRequest(req)).toThrow(/body.totalAmt/);
  });

  test('a numeric amount (JSON number) is refused: amounts are decimal strings', () => {
    const req = cnh2hBuildPaymentRequest(transferBatch()) as unknown as { body: { details: Record<string, unknown>[] } };
    req.body.details[0].tranAmt = 50000;
    expect(() => cnh2hParsePaymentRequest(req)).toThrow(/details\[0\].tranAmt/);
  });

  test(`more than ${cnh2hPaymentDetailsMax} details is a programming error on our side`, () => {
    const b = transferBatch();
    b.transfers = Array.from({ length: cnh2hPaymentDetailsMax + 1 }, (_, i) => ({ ...b.transfers[0], endToEndId: `E${i}` }));
    expect(() => cnh2hBuildPaymentRequest(b)).toThrow(/assertion/);
  });
});

describe('cn-h2h status (B2E0002)', () => {
  test('error codes map to ISO reasons', () => {
    expect(cnh2hErrorToIsoReason).toMatchObject({ E1004: 'AC04', E1001: 'AC01', E1010: 'BE01', E2001: 'DUPL' });
  });

  test('a status report goes out in bank codes and comes back in ISO reasons', () => {
    const res = cnh2hBuildStatusResponse(
      {
        messageId: 'BANKSEQ-1',
        originalMessageId: 'B1',
        transactions: [
          { endToEndId: 'E1', outcome: 'settled', bankStatus: 'ACSC', bankReference: 'BK1', bookedAt: '2025-03-01T03:00:00.000Z' },
          { endToEndId: 'E2', outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'AC04', reasonText: '账户已销户' },
          { endToEndId: 'E3', outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'BE01' },
          { endToEndId: 'E4', outcome: 'pending', bankStatus: 'ACSP' },
          { endToEndId: 'E5', outcome: 'unknown', bankStatus: '' },
        ],
      },
      { now },
    );
    expect(res.body!.batchStatus).toBe('2');
    expect(res.body!.details.map((d) => [d.status, d.errCode])).toEqual([
      ['0', undefined],
      ['1', 'E1004'],
      ['1', 'E1010'],
      ['2', undefined],
      ['3', undefined],
    ]);
    const report = cnh2hParseStatusResponse(JSON.stringify(res));
    expect(report.groupStatus).toBe('ACTC');
    expect(report.transactions).toEqual([
      { endToEndId: 'E1', outcome: 'settled', bankStatus: '0', bankReference: 'BK1', bookedAt: '2025-03-01T03:00:00.000Z' },
      { endToEndId: 'E2', outcome: 'rejected', bankStatus: '1', reasonCode: 'AC04', reasonText: '账户已销户' },
      { endToEndId: 'E3', outcome: 'rejected', bankStatus: '1', reasonCode: 'BE01' },
      { endToEndId: 'E4', outcome: 'pending', bankStatus: '2' },
      { endToEndId: 'E5', outcome: 'unknown', bankStatus: '3' },
    ]);
  });

  test('a batch refused as a whole: group RJCT with the mapped reason; details inherit it', () => {
    const res = cnh2hBuildStatusResponse({
      originalMessageId: 'B1',
      groupStatus: 'RJCT',
      groupReasonCode: 'DUPL',
      transactions: [],
    });
    expect(res.body).toMatchObject({ batchStatus: '1', errCode: 'E2001' });
    res.body!.details = [{ bizSerialNo: 'E1' }];
    const report = cnh2hParseStatusResponse(res);
    expect(report).toMatchObject({ groupStatus: 'RJCT', groupReasonCode: 'DUPL' });
    expect(report.transactions[0]).toEqual({ endToEndId: 'E1', outcome: 'rejected', bankStatus: '1', reasonCode: 'DUPL' });
  });

  test('E3001 (batch never received) gives no transactions and no group status', () => {
    const res = cnh2hBuildErrorResponse('B2E0002', 'Q1', cnh2hRetCodeBatchNotFound, '批次不存在');
    expect(cnh2hParseStatusResponse(res)).toEqual({ messageId: expect.any(String), originalMessageId: 'Q1', transactions: [] });
  });

  test('a status query round-trips', () => {
    const q = cnh2hBuildStatusQuery('B1', ['E1', 'E2'], { now });
    expect(q.head.transCode).toBe('B2E0002');
    expect(cnh2hParseStatusQuery(JSON.stringify(q))).toMatchObject({ originalMessageId: 'B1', endToEndIds: ['E1', 'E2'] });
  });

  test('a response without a head is a clear error', () => {
    expect(() => cnh2hParseStatusResponse('{"body":{}}')).toThrow(BankMessageInvalid);
    expect(() => cnh2hParseStatusResponse('not json')).toThrow(/not JSON/);
  });
});

describe('cn-h2h credit notice (E2B0001)', () => {
  test('credits read back exactly; the sub-account is the virtual account', () => {
    const credits = [credit(), credit({ entryRef: 'R2', virtualAccount: trustAccount, amountFen: 1n, endToEndId: 'E2' })];
    const notice = cnh2hBuildCreditNotice({ messageId: 'NTC-1', account: trustAccount, credits }, { now });
    expect(notice.body.details[0]).toMatchObject({ subAcctNo: `${trustAccount}001`, tranAmt: '50000.00', drCrFlag: 'C', tranDate: '20250228', tranTime: '140320' });
    expect(notice.body.details[1].subAcctNo).toBeUndefined();
    const n = cnh2hParseCreditNotice(Buffer.from(JSON.stringify(notice)));
    expect(n).toEqual({ messageId: 'NTC-1', credits, ignored: 0 });
  });

  test('debits and reversals in a notice are counted as ignored', () => {
    const notice = cnh2hBuildCreditNotice({ messageId: 'NTC-2', account: trustAccount, credits: [credit(), credit({ entryRef: 'R2' }), credit({ entryRef: 'R3' })] });
    notice.body.details[1].drCrFlag = 'D';
    notice.body.details[2].revFlag = '1';
    const n = cnh2hParseCreditNotice(notice);
    expect(n.credits.map((c) => c.entryRef)).toEqual(['CN20250228BOCM000123']);
    expect(n.ignored).toBe(2);
  });

  test('a bad amount is refused naming the field', () => {
    const notice = cnh2hBuildCreditNotice({ messageId: 'NTC-3', account: trustAccount, credits: [credit()] });
    notice.body.details[0].tranAmt = '5e4';
    expect(() => cnh2hParseCreditNotice(notice)).toThrow(/body.details\[0\].tranAmt/);
  });

  test('a payment request is not a credit notice', () => {
    expect(() => cnh2hParseCreditNotice(cnh2hBuildPaymentRequest(transferBatch()))).toThrow(new RegExp(cnh2hTransCodeBatchPayment));
  });
});

describe('cn-h2h statement (B2E0003, NDJSON)', () => {
  const header = {
    messageId: 'STM-1',
    statementId: 'STMNO-1',
    sequenceNumber: '7',
    account: trustAccount,
    currency: 'CNY',
    date: '2025-02-28',
    openingBalanceFen: -100n,
    closingBalanceFen: 5_000_000n,
  };

  test('the query round-trips', () => {
    const q = cnh2hBuildStatementQuery({ account: trustAccount, date: '2025-02-28' });
    expect(q.body).toEqual({ acctNo: trustAccount, queryDate: '20250228' });
    expect(cnh2hParseStatementQuery(q)).toMatchObject({ account: trustAccount, date: '2025-02-28' });
  });

  test('10,000 lines stream back with exact totals, through a chunked stream', async () => {
    const entries = Array.from({ length: 10_000 }, (_, i) => statementEntry(i + 1, { reversal: i === 5 }));
    const text = [...cnh2hBuildStatement(header, entries)].join('');
    // Chunks that split lines (and multi-byte characters) anywhere.
    const bytes = Buffer.from(text);
    const source = Readable.from((function* () { for (let i = 0; i < bytes.length; i += 777) yield bytes.subarray(i, i + 777); })());
    const got: StatementEntry[] = [];
    const summary = await cnh2hParseStatementStream(source, async (e) => {
      got.push(e);
    });
    expect(summary).toMatchObject({ messageId: 'STM-1', statementId: 'STMNO-1', sequenceNumber: '7', openingBalanceFen: -100n, closingBalanceFen: 5_000_000n, entryCount: 10_000 });
    expect(got[0]).toEqual({ ...entries[0], reversal: false });
    expect(got[5].reversal).toBe(true);
    expect(got.reduce((s, e) => s + (e.direction === 'credit' ? e.amountFen : 0n), 0n)).toBe(summary.creditTotalFen);
  });

  test('a statement cut short (no trailer) is refused', async () => {
    const lines = [...cnh2hBuildStatement(header, [statementEntry(1), statementEntry(2)])];
    await expect(cnh2hParseStatementStream(lines.slice(0, -1).join(''), () => undefined)).rejects.toThrow(/no trailer/);
  });

  test('a trailer that disagrees with the lines is refused', async () => {
    const lines = [...cnh2hBuildStatement(header, [statementEntry(1)])];
    lines[lines.length - 1] = JSON.stringify({ trailer: { totalNum: '1', crTotalAmt: '9.99', drTotalAmt: '0.00' } }) + '\n';
    await expect(cnh2hParseStatementStream(lines.join(''), () => undefined)).rejects.toThrow(/crTotalAmt/);
  });

  test('a refused query (E1001) is a clear error', async () => {
    const err = JSON.stringify(cnh2hBuildErrorResponse('B2E0003', 'S1', 'E1001', '账户不存在'));
    await expect(cnh2hParseStatementStream(err, () => undefined)).rejects.toThrow(/E1001/);
  });
});
