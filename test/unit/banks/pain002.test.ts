import { buildPain002, parsePain002, isoStatusOutcome } from '../../../src/banks/iso20022/pain002';
import { BankMessageInvalid, type StatusReport } from '../../../src/banks/types';
import { sample } from './fixtures';

describe('pain.002 status codes', () => {
  test.each([
    ['ACSC', 'settled'],
    ['ACCC', 'settled'],
    ['RJCT', 'rejected'],
    ['ACTC', 'pending'],
    ['ACSP', 'pending'],
    ['PDNG', 'pending'],
    ['ACCP', 'pending'],
    ['PART', 'pending'],
    ['ZZZZ', 'pending'],
    [undefined, 'pending'],
  ])('%s means %s', (code, outcome) => {
    expect(isoStatusOutcome(code)).toBe(outcome);
  });
});

describe('pain.002 samples', () => {
  test('self-authored .001.10 RJCT: transaction rejected AC01 with its text and reference', () => {
    const r = parsePain002(sample('pain.002.001.10__selfauthored_rjct.xml'));
    expect(r).toEqual({
      messageId: 'BANKSTS-20250301-000987',
      originalMessageId: 'RFD-20250301-0001',
      groupStatus: 'RJCT',
      transactions: [
        {
          endToEndId: 'RFD-BID-7781-1',
          outcome: 'rejected',
          bankStatus: 'RJCT',
          reasonCode: 'AC01',
          reasonText: 'Creditor account number invalid',
          bankReference: 'CN20250301ICBC000987',
        },
      ],
    });
  });

  test('Nordea .001.03 group reject: the group status and reason are kept', () => {
    const r = parsePain002(sample('pain.002.001.03__svapnil_nordea_group_reject.xml'));
    expect(r.originalMessageId).toBe('MSGID-PS-TEST-0708-01');
    expect(r.groupStatus).toBe('RJCT');
    expect(r.groupReasonCode).toBe('DU01');
    expect(r.transactions).toEqual([]);
  });

  test('Nordea .001.03 payment-information reject without a group status: PmtInf status stands for the message', () => {
    const r = parsePain002(sample('pain.002.001.03__svapnil_nordea_payment_reject.xml'));
    expect(r.originalMessageId).toBe('MSGID-COM-SCE25-1707-01');
    expect(r.groupStatus).toBe('RJCT');
    expect(r.groupReasonCode).toBe('NARR');
  });

  test('the invalid sample (Xmlns capitalised) is read leniently by structure', () => {
    const r = parsePain002(sample('invalid/pain.002.001.03__svapnil_cross_river_txn_rejected.xml'));
    expect(r.originalMessageId).toBe('missing2');
    expect(r.groupStatus).toBe('ACTC');
    expect(r.transactions).toHaveLength(3);
    expect(r.transactions.every((t) => t.outcome === 'rejected' && t.reasonCode === 'NARR')).toBe(true);
    expect(r.transactions[0]).toMatchObject({ endToEndId: 'sanity-10-1-12-1-21', reasonText: 'Instruction ID example01234567 already exist' });
  });
});

describe('pain.002 status levels', () => {
  const doc = (body: string) =>
    `<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"><CstmrPmtStsRpt><GrpHdr><MsgId>S1</MsgId><CreDtTm>2025-03-01T10:00:00+08:00</CreDtTm></GrpHdr>${body}</CstmrPmtStsRpt></Document>`;

  test('a transaction without its own status inherits the payment-information status and reason', () => {
    const r = parsePain002(
      doc(
        '<OrgnlGrpInfAndSts><OrgnlMsgId>M1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId><GrpSts>ACTC</GrpSts></OrgnlGrpInfAndSts>' +
          '<OrgnlPmtInfAndSts><OrgnlPmtInfId>M1</OrgnlPmtInfId><PmtInfSts>RJCT</PmtInfSts><StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf>' +
          '<TxInfAndSts><OrgnlEndToEndId>E1</OrgnlEndToEndId></TxInfAndSts>' +
          '<TxInfAndSts><OrgnlEndToEndId>E2</OrgnlEndToEndId><TxSts>ACSC</TxSts></TxInfAndSts></OrgnlPmtInfAndSts>',
      ),
    );
    expect(r.transactions).toEqual([
      { endToEndId: 'E1', outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'AM04' },
      { endToEndId: 'E2', outcome: 'settled', bankStatus: 'ACSC' },
    ]);
  });

  test('without payment-information status a transaction inherits the group status', () => {
    const r = parsePain002(
      doc(
        '<OrgnlGrpInfAndSts><OrgnlMsgId>M1</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId><GrpSts>ACSC</GrpSts></OrgnlGrpInfAndSts>' +
          '<OrgnlPmtInfAndSts><OrgnlPmtInfId>M1</OrgnlPmtInfId><TxInfAndSts><OrgnlEndToEndId>E1</OrgnlEndToEndId></TxInfAndSts></OrgnlPmtInfAndSts>',
      ),
    );
    expect(r.transactions[0]).toEqual({ endToEndId: 'E1', outcome: 'settled', bankStatus: 'ACSC' });
  });

  test('a report without OrgnlGrpInfAndSts is a clear error', () => {
    expect(() => parsePain002(doc(''))).toThrow(BankMessageInvalid);
    expect(() => parsePain002(doc(''))).toThrow(/OrgnlGrpInfAndSts/);
  });
});

describe('buildPain002', () => {
  const report: StatusReport = {
    messageId: 'STS-1',
    originalMessageId: 'RFD-20250301-0001',
    groupStatus: 'ACTC',
    transactions: [
      { endToEndId: 'E1', outcome: 'settled', bankStatus: 'ACSC', bankReference: 'BK1', bookedAt: '2025-03-01T03:00:00.000Z' },
      { endToEndId: 'E2', outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'AC04', reasonText: 'Account closed' },
      { endToEndId: 'E3', outcome: 'pending', bankStatus: 'ACSP' },
      { endToEndId: 'E4', outcome: 'unknown', bankStatus: '' },
      { endToEndId: 'E5', outcome: 'rejected', bankStatus: '1', reasonCode: 'E9876-LONG' },
    ],
  };

  test('reads back as the same report; unknown transactions are left out', () => {
    const back = parsePain002(buildPain002(report, new Date('2025-03-01T03:00:05Z')));
    expect(back.messageId).toBe('STS-1');
    expect(back.groupStatus).toBe('ACTC');
    expect(back.transactions).toEqual([
      { endToEndId: 'E1', outcome: 'settled', bankStatus: 'ACSC', bankReference: 'BK1', bookedAt: '2025-03-01T03:00:00.000Z' },
      { endToEndId: 'E2', outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'AC04', reasonText: 'Account closed' },
      { endToEndId: 'E3', outcome: 'pending', bankStatus: 'ACSP' },
      { endToEndId: 'E5', outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'E9876-LONG' },
    ]);
  });

  test('a whole-file rejection carries the group reason', () => {
    const xml = buildPain002({ originalMessageId: 'M9', groupStatus: 'RJCT', groupReasonCode: 'FF01', transactions: [] }, new Date());
    expect(parsePain002(xml)).toMatchObject({ originalMessageId: 'M9', groupStatus: 'RJCT', groupReasonCode: 'FF01', transactions: [] });
  });

  test('a message accepted in part (PART) gives each refund its own status: settled, rejected with its reason, pending, DUPL', () => {
    const report: StatusReport = {
      originalMessageId: 'M01JBATCH1',
      groupStatus: 'PART',
      transactions: [
        { endToEndId: 'E1', outcome: 'settled', bankStatus: 'ACSC', bankReference: 'SBX1D', bookedAt: '2026-12-04T02:00:00.000Z' },
        { endToEndId: 'E2', outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'AC04', reasonText: 'account closed' },
        { endToEndId: 'E3', outcome: 'pending', bankStatus: 'ACSP' },
        { endToEndId: 'E4', outcome: 'rejected', bankStatus: 'RJCT', reasonCode: 'DUPL' },
      ],
    };
    const back = parsePain002(buildPain002(report, new Date()));
    expect(back.groupStatus).toBe('PART');
    expect(back.transactions.map((t) => [t.endToEndId, t.outcome, t.reasonCode ?? null])).toEqual([
      ['E1', 'settled', null],
      ['E2', 'rejected', 'AC04'],
      ['E3', 'pending', null],
      ['E4', 'rejected', 'DUPL'],
    ]);
    expect(back.transactions[0].bankReference).toBe('SBX1D');
  });
});
