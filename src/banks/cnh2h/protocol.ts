/* ============================================================================================
 * cn-h2h: a Chinese bank's own host-to-host (银企直联) interface, as its manual would describe it.
 * Not ISO 20022: proprietary field names and codes, JSON over HTTPS. The sandbox bank speaks it;
 * the cn-h2h adapter speaks it to the sandbox, which proves the BankAdapter seam is real.
 *
 * TRANSPORT
 *   POST {endpoint}/cn-h2h/gateway, header `X-Trans-Code: <transCode>`, body a JSON envelope
 *   (UTF-8). The HTTP status is 200 whenever the bank processed the request, also when it refused
 *   it: the refusal is in head.retCode. A 5xx or no answer means the outcome is unknown.
 *   The bank pushes credit notices to the enterprise's URL the same way (POST, JSON envelope,
 *   transCode E2B0001); any 2xx from the enterprise counts as delivered, else it pushes again.
 *
 * ENVELOPE
 *   request  { "head": { transCode, reqSeqNo, transDate, transTime, custNo }, "body": { ... } }
 *   response { "head": { transCode, reqSeqNo, respSeqNo, transDate, transTime, retCode, retMsg },
 *              "body": { ... } }          (body absent when retCode is not 000000)
 *   transCode  trade code, see the table below; echoed in the response
 *   reqSeqNo   sender's serial for this request, max 32 chars; echoed in the response. For a
 *              batch payment it is the batch number; for a credit notice the bank's notice serial
 *   respSeqNo  bank's serial for its response, max 32
 *   transDate  YYYYMMDD, Beijing time of sending;  transTime HHmmss
 *   custNo     the enterprise's customer number at the bank (企业客户号), max 20
 *   retCode    "000000" the bank processed the request (business results are in the body);
 *              otherwise the request was refused as a whole, see RETURN CODES
 *   retMsg     text for people (Chinese or English), max 200
 *
 * TRADE CODES
 *   B2E0001 batch payment (批量转账)       enterprise -> bank
 *   B2E0002 payment status query           enterprise -> bank
 *   B2E0003 account detail query for a day enterprise -> bank (answer is NDJSON, see below)
 *   E2B0001 account notice (来账/冲正/退汇/结息通知) bank -> enterprise
 *
 * B2E0001 batch payment, request body
 *   batchNo      our batch number (= ISO MsgId), unique per submission, never reused, max 32
 *   expDate      requested execution date YYYYMMDD
 *   payAcctNo    payer (our trust) account, digits as a string, max 34
 *   payAcctName  payer account name, max 100
 *   payBankNo    payer branch CNAPS code, 12 digits, optional
 *   ccy          "CNY"
 *   totalNum     number of details as a decimal string; must match details.length
 *   totalAmt     sum of tranAmt, decimal string with 2 decimals; must match
 *   details[]    at most cnh2hPaymentDetailsMax:
 *     bizSerialNo   our end-to-end id, unique per attempt; the bank refuses a repeat with E2001
 *     recvAcctNo    payee account, max 34;  recvAcctName payee name, max 100 (checked: E1010)
 *     recvBankNo    payee branch CNAPS code, 12 digits (optional for same-bank payees)
 *     tranAmt       amount, decimal string "50000.00", > 0, at most 15 integer digits
 *     postscript    附言 (remittance text), max 100
 *   response body: as B2E0002's. batchStatus "2" = taken for processing, "1" = refused whole.
 *
 * B2E0002 payment status query, request body
 *   batchNo      the batch number asked about;  bizSerialNos[] optional subset of details
 *   response body
 *   batchNo, batchStatus ("0" done: see details / "1" refused as a whole / "2" processing /
 *   "3" unknown), errCode + errMsg when batchStatus is "1",
 *   details[]: bizSerialNo, status ("0" success / "1" failed / "2" processing / "3" unknown;
 *   when absent the batchStatus applies), errCode + errMsg when failed, bankSerialNo (the bank's
 *   booking reference), finishDate YYYYMMDD + finishTime HHmmss when final.
 *   head.retCode E3001 = the bank never received that batch (not the same as failed).
 *
 * B2E0003 account detail query, request body
 *   acctNo, queryDate YYYYMMDD
 *   response: Content-Type application/x-ndjson, one JSON object per line, streamed so a day of
 *   a busy account never has to fit in memory on either side:
 *     line 1   { "head": {...response head...}, "body": { acctNo, ccy, queryDate, stmtNo,
 *                seqNo, openBal, openBalFlag, closeBal, closeBalFlag } }
 *                stmtNo statement id; seqNo electronic sequence number of the statement;
 *                balances unsigned decimal strings with flag "C" (credit/positive) or "D" (debit)
 *     lines    { "detail": ACCOUNT DETAIL }                 one per booking, both directions
 *     last     { "trailer": { totalNum, crTotalAmt, drTotalAmt } }
 *                the trailer proves the stream was not cut short; its totals must match
 *   A refused query (e.g. E1001 unknown account) is one plain JSON envelope (application/json).
 *
 * E2B0001 account notice, request body (bank -> enterprise; only booked entries are pushed,
 * but the enterprise must still read drCrFlag and revFlag)
 *   noticeNo     the notice's unique id (our message id for de-duplication), max 32
 *   noticeType   what the notice reports, one kind per notice; absent = "01":
 *                "01" 来账 incoming credits (details C; D or revFlag "1" details, which this
 *                     type never carried on purpose, are ignored as before)
 *                "02" 冲正 the bank takes back credits it booked: details D, revFlag "1",
 *                     origBankSerialNo = the bankSerialNo of the credit (and its notice), the
 *                     credit's subAcctNo, bizSerialNo and counterparty repeated
 *                "03" 退汇 a payment of ours returned by the payee's bank: details C, tranType
 *                     RTN, rtnCode, bizSerialNo = the end-to-end id of the payment returned
 *                "04" 结息 interest credited by the bank: details C, tranType INT
 *                a detail that contradicts the notice's type is a format error
 *   acctNo       the enterprise's main account
 *   details[]    ACCOUNT DETAIL, at most notificationEntriesMax
 *
 * ACCOUNT DETAIL (statement lines and credit notices)
 *   bankSerialNo  the bank's unique booking reference (same in notice and statement), max 35
 *   drCrFlag      "C" credit (money in) / "D" debit
 *   tranAmt       decimal string, > 0;  ccy "CNY"
 *   tranDate      booking date YYYYMMDD;  tranTime HHmmss (Beijing), absent when the bank reports
 *                 the booking date only
 *   valueDate     YYYYMMDD
 *   subAcctNo     the (virtual) sub-account the payer addressed, when not the main account
 *   oppAcctNo, oppAcctName, oppBankNo   counterparty account, name, CNAPS code
 *   postscript    附言 as the payer wrote it
 *   bizSerialNo   the enterprise's end-to-end id, on bookings of its own payments
 *   revFlag       "1" the booking reverses an earlier one (冲正), else "0"
 *   origBankSerialNo  on a reversal: the bankSerialNo of the booking it reverses
 *   tranType      交易类型, optional: "TRF" transfer, "RTN" 退汇 (return of a payment), "INT" 结息
 *                 (interest); a reversal keeps its original's type
 *   rtnCode       on a RTN detail, required: the return reason as a detail error code (E1004
 *                 account closed, E1001 no such account, E1010 name mismatch; an ISO code where
 *                 the bank has none);  rtnMsg  optional text, max 200
 *
 * RETURN AND ERROR CODES (retCode for whole requests, errCode for details)
 *   000000 ok;  E1001 account does not exist;  E1004 account closed;  E1005 insufficient funds;
 *   E1006 account frozen;  E1010 payee name does not match the account;  E1020 invalid CNAPS
 *   code;  E2001 duplicate bizSerialNo;  E2002 duplicate batchNo;  E3001 batch not found;
 *   E9001 signature invalid;  E9002 message format error;  E9999 system busy (outcome unknown:
 *   the enterprise must query status, never resend).
 * ============================================================================================ */
// The codec is split by trade (types, fields, payments, notices, statement); this module is
// its one entry point, so importers never depend on that split.
export * from './types';
export { cnh2hBuildErrorResponse, cnh2hParseRequestHead, cnh2hParseResponseHead, cnh2hReadJson, cnh2hTotalDigitsMax, truncateChars } from './fields';
export * from './payments';
export { cnh2hBuildCreditNotice, cnh2hParseCreditNotice } from './notices';
export * from './statement';
