// The seam between the service and a deposit bank. The service speaks only in these intents and
// results; each adapter (iso20022/, cnh2h/) turns them into its bank's protocol and back, so no
// field name of any protocol is known outside src/banks.
import type { Readable } from 'node:stream';

export type BankProtocol = 'iso20022' | 'cn-h2h';

export interface AccountRef {
  /** Chinese domestic account numbers are strings: they keep leading zeros and run to 19+ digits. */
  accountNumber: string;
  name: string;
  /** 12-digit CNAPS code of the account's branch. */
  bankCode?: string;
}

export interface CreditTransferIntent {
  /** Our id for this one attempt (unique per attempt; the bank de-duplicates on it). */
  endToEndId: string;
  amountFen: bigint;
  currency: 'CNY';
  creditor: AccountRef;
  remittance: string;
}

/** One payment message: many transfers from one debtor account, each with its own end-to-end id
 *  and its own status at the bank (a message may be accepted in part). */
export interface TransferBatch {
  /** Message id, unique per submission and never reused on a retry. */
  messageId: string;
  createdAt: Date;
  /** Business date (YYYY-MM-DD, Asia/Shanghai) the bank should execute on. */
  requestedExecutionDate: string;
  debtor: AccountRef;
  transfers: CreditTransferIntent[];
}

/** Outcome as the service understands it. `pending` is not final; `unknown` means the bank has
 *  no record (yet) of the instruction, which is not the same as rejected. */
export type TransferOutcome = 'pending' | 'settled' | 'rejected' | 'unknown';

export interface TransactionStatus {
  endToEndId: string;
  outcome: TransferOutcome;
  /** The bank's own status code as sent (ACSC, RJCT, PDNG, ACSP, or a cn-h2h code). */
  bankStatus: string;
  /** Reason code (AC04 closed account, AC01 invalid account, BE01 name mismatch, DUPL, ...). */
  reasonCode?: string;
  reasonText?: string;
  bankReference?: string;
  bookedAt?: string;
}

export interface StatusReport {
  /** The report's own message id (pain.002 MsgId or cn-h2h serial). */
  messageId?: string;
  originalMessageId: string;
  /** Group-level status where the bank sent one (e.g. RJCT for the whole file). */
  groupStatus?: string;
  groupReasonCode?: string;
  transactions: TransactionStatus[];
}

export interface SubmitResult {
  messageId: string;
  /** The bank took the batch for processing (it may still reject transactions later). */
  accepted: boolean;
  report?: StatusReport;
}

/** Why a payment of ours came back (退汇), as the payee's bank reported it. */
export interface ReturnInfo {
  /** ISO 20022 ExternalReturnReason1Code (AC04 closed account, AC01 no such account, BE01 name
   *  mismatch...); cn-h2h's own codes are mapped onto these, like status reasons. */
  reasonCode: string;
  /** The end-to-end id of the payment that came back, as we sent it. */
  originalEndToEndId?: string;
  additionalInfo?: string;
}

/** What a booking is beyond its direction, where the bank says so. Shared by notified entries
 *  and statement lines, so both describe the same booking the same way. */
export interface BookingDetails {
  /** ISO 20022 bank transaction code as "Domain/Family/SubFamily": PMNT/RCDT/DMCT a transfer
   *  received, PMNT/ICDT/DMCT one sent, PMNT/ICDT/RRTN a payment of ours returned,
   *  ACMT/MCOP/INTR interest. cn-h2h's tranType is mapped onto the same codes. Absent when the
   *  bank gives none (or only a proprietary one). */
  bankTransactionCode?: string;
  /** The bank gave the booking date without a time: bookedAt is then the start of that day in
   *  Beijing, not the moment of booking (so it must not decide a deadline to the minute). */
  bookingDateOnly?: boolean;
  /** Reversal indicator (RvslInd, cn-h2h revFlag): the booking undoes an earlier one. */
  reversal?: boolean;
  /** On a reversal: the bank's reference of the booking it undoes (the original's entryRef). */
  originalEntryRef?: string;
  /** On a returned payment: the reason and the end-to-end id of the payment returned. */
  returnInfo?: ReturnInfo;
}

/** One incoming credit, as a bank notifies it (in `reversals`, a credit being taken back). */
export interface CreditEntry extends BookingDetails {
  /** The bank's unique reference for the booking (AcctSvcrRef or its fallbacks). */
  entryRef: string;
  /** The account credited: for a deposit, the virtual sub-account the bidder paid to. */
  virtualAccount: string;
  amountFen: bigint;
  currency: string;
  /** ISO timestamp of the booking. */
  bookedAt: string;
  /** YYYY-MM-DD */
  valueDate: string;
  debtor: { name: string; accountNumber: string; bankCode?: string };
  remittance?: string;
  endToEndId?: string;
}

export interface CreditNotification {
  /** The message's id (camt.054 GrpHdr/MsgId, JSON eventId, cn-h2h serial): unique per sender. */
  messageId: string;
  credits: CreditEntry[];
  /** Entries read but not credits (debits, pending, reversals): counted, never acted on. */
  ignored: number;
  /** Booked reversals of earlier credits (a DBIT entry with RvslInd true; cn-h2h drCrFlag D with
   *  revFlag 1), each with `reversal: true` and `originalEntryRef`: the credit's own fields
   *  (virtual account, payer) describe the money taken back. Present only when there are any;
   *  they are counted in `ignored` as well, since they are not credits. */
  reversals?: CreditEntry[];
}

export interface StatementEntry extends BookingDetails {
  entryRef: string;
  direction: 'credit' | 'debit';
  amountFen: bigint;
  currency: string;
  bookedAt: string;
  valueDate: string;
  endToEndId?: string;
  /** The account as the payer addressed it (a virtual sub-account for deposits). */
  account?: string;
  counterparty: { name?: string; accountNumber?: string; bankCode?: string };
  remittance?: string;
}

export interface StatementHeader {
  messageId: string;
  statementId: string;
  /** Electronic sequence number (ElctrncSeqNb / LglSeqNb) where given. */
  sequenceNumber?: string;
  account: string;
  currency: string;
  /** YYYY-MM-DD the statement covers. */
  date: string;
  /** Signed: a debit balance is negative. */
  openingBalanceFen: bigint;
  closingBalanceFen: bigint;
}

export interface StatementSummary extends StatementHeader {
  entryCount: number;
  creditTotalFen: bigint;
  debitTotalFen: bigint;
}

export interface StatementQuery {
  account: string;
  /** YYYY-MM-DD */
  date: string;
}

export interface BankAdapter {
  readonly protocol: BankProtocol;
  /** The most transfers one payment message may carry in this protocol: a caller with more
   *  sends several messages. */
  readonly transfersPerMessageMax: number;
  /** Sends a batch. Throws BankUnreachable when the outcome is unknown (timeout, 5xx, reset):
   *  the caller must ask for status before sending anything again. */
  sendTransfers(batch: TransferBatch): Promise<SubmitResult>;
  /** Asks the bank what became of a batch (and of the given end-to-end ids in it): one inquiry
   *  covers the whole message, each transaction with its own status. */
  getStatus(originalMessageId: string, endToEndIds: string[]): Promise<StatusReport>;
  /** The day's statement for an account, as the raw document (streamed: it may be large). */
  fetchStatement(query: StatementQuery): Promise<Readable>;
  /** Reads a pushed credit notification. Throws BankMessageInvalid on a document it cannot read. */
  parseNotification(body: Buffer, contentType: string): CreditNotification;
  /** Reads a statement document entry by entry with bounded memory. */
  parseStatement(input: Readable, onEntry: (entry: StatementEntry) => void | Promise<void>): Promise<StatementSummary>;
}

export class BankUnreachable extends Error {
  constructor(message: string, override readonly cause?: unknown) {
    super(message);
    this.name = 'BankUnreachable';
  }
}

export class BankMessageInvalid extends Error {
  /** The field at fault where one can be named ("$.entries[0].amount"), for the error's param. */
  constructor(message: string, readonly field?: string) {
    super(message);
    this.name = 'BankMessageInvalid';
  }
}

export interface BankConnection {
  protocol: BankProtocol;
  /** Base URL of the bank's host-to-host endpoint. */
  endpoint: string;
  /** Signs each outgoing request (the service's own key), as webhooks to issuers are signed. */
  sign?: (body: Buffer) => Record<string, string>;
  timeoutMs?: number;
}
