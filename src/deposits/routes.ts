// Cash deposits over HTTP: sub-accounts, the deposit banks' credit notifications (signed),
// withdrawals, forfeiture, suspense returns, decisions on held deposits (R3) and reading.
// Parsing and access here; the use cases are in the services, which take the R19 calendar of
// the runtime at the time of the request.
import { defineRoute, transactionOf, type RouteDef } from '../http/route';
import { listEnvelope } from '../http/schemas';
import { presentRefund } from '../refunds/present';
import { refundOut } from '../refunds/schemas';
import { vouchersOfSubjects } from '../vouchers/subjects';
import { notificationBodyBytesMax, notificationContentTypes } from './notifications';
import { receiveNotification } from './notificationGroups';
import { authorizeOutcomeReader, notificationOutcome } from './notificationOutcome';
import { presentDepositAccount, presentDepositDetail, presentDepositSummary, presentForfeiture, presentWithdrawal } from './present';
import * as s from './schemas';
import * as service from './service';

const tags = ['deposits'];

export const depositRoutes: RouteDef<any, any, any>[] = [
  defineRoute({
    method: 'post', path: '/v1/deposits/:id/return', operationId: 'returnSuspenseCredit',
    summary: 'Return a credit held in suspense (R15) to the account it came from, with the decision on record', tags,
    access: { roles: ['centre'] }, params: s.depositParams, body: s.suspenseReturnBody,
    response: refundOut, successStatus: 201,
    handler: async ({ tx, deps, caller, params, body }) => {
      const refund = await service.returnSuspenseCredit(transactionOf(tx), deps.tables.calendar, caller, params.id, body.decision);
      return presentRefund(refund, { vouchers: (await vouchersOfSubjects(tx, { refund: [refund.id] })).of('refund', refund.id) });
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/deposits/:id/decision', operationId: 'decideHeldDeposit',
    summary: 'Decide a deposit held because R3 could not be decided from a booking date (on_time: judged by R4 and R5 as usual; late: invalid and returned to its source)', tags,
    access: { roles: ['centre'] }, params: s.depositParams, body: s.heldDecisionBody, response: s.depositDetailOut,
    handler: async ({ tx, deps, caller, params, body }) => {
      const d = await service.decideHeldDeposit(transactionOf(tx), deps.tables.calendar, caller, params.id, body);
      return presentDepositDetail(d, await vouchersOfSubjects(tx, { deposit: [d.deposit.id], refund: d.refunds.map((r) => r.id) }));
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/deposit-accounts', operationId: 'openDepositAccount',
    summary: "The bidder's virtual sub-account (虚拟子账号) for this section; the same answer every time", tags,
    access: { roles: ['centre', 'bidder'] }, params: s.sectionParams, body: s.depositAccountCreate, response: s.depositAccountOut,
    handler: async ({ tx, caller, params, body }) => {
      const { account, created, bank, requirement } = await service.openDepositAccount(transactionOf(tx), caller, params.id, body.bidderId);
      return { status: created ? 201 : 200, body: presentDepositAccount(account, bank, requirement) };
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/banks/:id/notifications', operationId: 'receiveBankNotification',
    summary: 'Incoming credits from a deposit bank (camt.054, cn-h2h notice or JSON), signed by the bank', tags,
    // The group's claim checks that each notice's certificate is still unretired.
    access: { webhook: 'bank', rememberedRegistration: true }, params: s.bankParams,
    bodyMode: { kind: 'raw', maxBytes: notificationBodyBytesMax, contentTypes: notificationContentTypes },
    response: s.notificationAnswerOut,
    // Committed together with others of the same bank that arrive meanwhile, each in its own
    // right (notificationGroups.ts), not in a transaction of the request's own.
    transactional: false,
    handler: async ({ deps, sender, rawBody, req }) => {
      const r = await receiveNotification(deps, sender!, rawBody ?? Buffer.alloc(0), req.get('content-type') ?? '');
      return { status: r.status, body: r.body, headers: r.replayed ? { 'Idempotent-Replayed': 'true' } : {} };
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/banks/:id/notifications/:messageId', operationId: 'getBankNotification',
    summary: 'What a notification came to: processing or done, its counts and the deposits it made (the bank itself by a signed request, the centre, the auditor)', tags,
    // The bank reads by signature and the centre and auditor by key, which one declaration of
    // access cannot say: the handler checks the caller itself, and anyone else gets 404.
    access: { public: true }, params: s.notificationParams, query: s.notificationOutcomeQuery, response: s.notificationOutcomeOut,
    handler: async ({ req, deps, params, query }) => {
      await authorizeOutcomeReader(req, deps, params.id);
      return notificationOutcome(deps.db, params.id, params.messageId, query);
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/deposits', operationId: 'listDeposits', summary: 'Deposits (sealed from tenderees until opening, R18)', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, query: s.depositListQuery, response: listEnvelope(s.depositOut),
    handler: async ({ tx, caller, query }) => {
      const page = await service.listDeposits(tx, caller, query);
      const vouchers = await vouchersOfSubjects(tx, { deposit: page.data.map(({ deposit }) => deposit.id) });
      return { ...page, data: page.data.map(({ deposit, credit }) => presentDepositSummary(deposit, credit, vouchers.of('deposit', deposit.id))) };
    },
  }),
  defineRoute({
    method: 'get', path: '/v1/deposits/:id', operationId: 'getDeposit', summary: 'A deposit with its credit, rule results, refunds and ledger postings', tags,
    access: { roles: ['centre', 'tenderee', 'bidder', 'auditor'] }, params: s.depositParams, response: s.depositDetailOut,
    handler: async ({ tx, caller, params }) => {
      const d = await service.getVisibleDeposit(tx, caller, params.id);
      return presentDepositDetail(d, await vouchersOfSubjects(tx, { deposit: [d.deposit.id], refund: d.refunds.map((r) => r.id) }));
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/withdrawals', operationId: 'withdrawBid',
    summary: 'Withdraw a bid: refunded within R9 before the deadline, forfeitable after it (R10)', tags,
    access: { roles: ['centre', 'bidder'] }, params: s.sectionParams, body: s.withdrawalCreate, response: s.withdrawalOut, successStatus: 201,
    handler: async ({ tx, deps, caller, params, body }) => {
      const { withdrawal, refunds } = await service.withdraw(transactionOf(tx), deps.tables.calendar, caller, params.id, body.bidderId);
      return presentWithdrawal(withdrawal, refunds, await vouchersOfSubjects(tx, { refund: refunds.map((r) => r.id) }));
    },
  }),
  defineRoute({
    method: 'post', path: '/v1/sections/:id/forfeitures', operationId: 'forfeitDeposit',
    summary: 'Forfeit a bidder\'s deposit for an R12 reason (不予退还)', tags,
    access: { roles: ['centre'] }, params: s.sectionParams, body: s.forfeitureCreate, response: s.forfeitureOut, successStatus: 201,
    handler: async ({ tx, caller, params, body, deps }) => presentForfeiture(await service.forfeit(transactionOf(tx), deps.tables.calendar, caller, params.id, body.bidderId, body.reason)),
  }),
];
