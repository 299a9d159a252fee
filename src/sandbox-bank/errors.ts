// Errors of the simulated bank, mapped to HTTP once (customerRoutes' error handler). Reject
// reasons carry ISO 20022 ExternalStatusReason1Code values, the codes a real bank would send.

export class SandboxError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = 'SandboxError';
  }
}

/** ISO 20022 reason codes the simulator uses, with the meaning the standard gives them. */
export const reasonCodes = {
  /** IncorrectAccountNumber: no such account at a bank the sandbox holds accounts for. */
  AC01: 'AC01',
  /** ClosedAccountNumber */
  AC04: 'AC04',
  /** InsufficientFunds */
  AM04: 'AM04',
  /** InconsistenWithEndCustomer: the creditor name does not match the account's name. */
  BE01: 'BE01',
  /** DuplicatePayment: this end-to-end id was already received. */
  DUPL: 'DUPL',
  /** DuplicateMessageID: the whole file is a repeat of one already received. */
  DU01: 'DU01',
  /** InvalidFileFormat: the file could not be read. */
  FF01: 'FF01',
  /** TransactionForbidden: e.g. an account paying itself. */
  AG01: 'AG01',
  /** NotSpecifiedReasonAgentGenerated: the bank's own unexplained refusal, used by the
   *  rejectRate fault because it names no condition the payer could have checked. */
  MS03: 'MS03',
} as const;

export type ReasonCode = (typeof reasonCodes)[keyof typeof reasonCodes];

/** A transfer the bank refuses; the customer API answers 422 with the code. */
export class TransferRejected extends SandboxError {
  constructor(
    readonly reasonCode: ReasonCode,
    message: string,
  ) {
    super(422, reasonCode, message);
    this.name = 'TransferRejected';
  }
}
