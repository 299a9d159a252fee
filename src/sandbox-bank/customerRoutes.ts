// The customer-facing API (DESIGN.md "Banks"): what tests, the demo and outside checkers use to
// play the bank's customers and to steer the simulation. JSON, amounts as decimal strings.
// Faults never apply here: this is the harness's control plane, not the bank's protocol.
import express, { Router, type Request, type Response } from 'express';
import type { SandboxContext } from './context';
import { table } from './context';
import { SandboxError } from './errors';
import { faultSettingsJson, parseFaultSettings, type FaultSettings } from './faults';
import { checkAccountNumber } from './ledger';
import { closeAccount, getAccountView, openAccount, parseOpenAccount } from './accounts';
import { customerTransfer, parseCustomerTransfer } from './transfers';
import { outboxJson, type OutboxRow } from './notifier';
import { parseReversal, reverseTransfer } from './reversals';
import { parseReturn, returnPayment } from './returns';
import { parseInterest, postInterest } from './interest';
import { formatAmount } from '../domain/money';
import { parseJsonStrict, RepeatedJsonKey } from '../domain/json';
import { sendError } from './httpSupport';
import { emptyBody, isStorableText, strictBody } from './bodies';

/** Customer API bodies are small JSON objects. */
export const customerBodyBytesMax = 64 * 1024;
/** GET /sandbox/notifications answers at most this many rows (newest first). */
export const notificationsListMax = 100;
/** The fields of POST /sandbox/accounts. */
export const openAccountFields = ['number', 'name', 'bankCode', 'balance'] as const;
/** A payment message id: an ISO MsgId (Max35Text) or a cn-h2h batchNo (32). */
export const paymentMessageIdCharsMax = 35;

export async function saveFaultSettings(ctx: SandboxContext, settings: FaultSettings): Promise<void> {
  await ctx.db(table(ctx, 'fault_settings'))
    .insert({ id: 1, settings: JSON.stringify(settings), updated_at: ctx.db.fn.now() })
    .onConflict('id')
    .merge();
}

export async function loadFaultSettings(ctx: Pick<SandboxContext, 'db' | 'config'>): Promise<FaultSettings | undefined> {
  const row = await ctx.db(table(ctx, 'fault_settings')).where({ id: 1 }).first();
  return row ? parseFaultSettings(row.settings) : undefined;
}

export function customerRoutes(ctx: SandboxContext): Router {
  const router = Router();
  // A body naming a key twice is refused as the service refuses it (domain/json.ts): body-parser
  // keeps the last, so its verify hook notes the repetition and the next handler answers.
  router.use(
    '/sandbox',
    express.json({
      limit: customerBodyBytesMax,
      verify: (req, _res, buf) => {
        try {
          parseJsonStrict(buf.toString('utf8'));
        } catch (e) {
          if (e instanceof RepeatedJsonKey) (req as Request & { repeatedKey?: RepeatedJsonKey }).repeatedKey = e;
        }
      },
    }),
    (req: Request & { repeatedKey?: RepeatedJsonKey }, res: Response, next: () => void) => {
      if (req.repeatedKey) return sendError(res, 400, 'invalid_request', `body ${req.repeatedKey.message}`, req.repeatedKey.param);
      next();
    },
  );

  router.get('/sandbox/health', async (_req: Request, res: Response) => {
    await ctx.db.raw('SELECT 1');
    res.json({ status: 'ok', protocol: ctx.config.protocol, trustAccount: ctx.config.trustAccount?.number ?? null, virtualPrefix: ctx.config.virtualPrefix ?? null });
  });

  router.post('/sandbox/accounts', async (req: Request, res: Response) => {
    const { created, account } = await openAccount(ctx, parseOpenAccount(strictBody(req.body, openAccountFields)));
    res.status(created ? 201 : 200).json(await getAccountView(ctx, account.number));
  });

  router.get('/sandbox/accounts/:number', async (req: Request, res: Response) => {
    res.json(await getAccountView(ctx, checkAccountNumber(req.params.number, 'number')));
  });

  router.post('/sandbox/accounts/:number/close', async (req: Request, res: Response) => {
    emptyBody(req.body);
    const account = await closeAccount(ctx, checkAccountNumber(req.params.number, 'number'));
    res.json(await getAccountView(ctx, account.number));
  });

  router.post('/sandbox/transfers', async (req: Request, res: Response) => {
    const input = parseCustomerTransfer(req.body, req.get('Idempotency-Key') ?? undefined);
    const result = await customerTransfer(ctx, input);
    res.status(result.replayed ? 200 : 201).json(result);
  });

  // The bank acting on its own: taking back a credit (冲正), a payee's bank returning a payment
  // (退汇), interest (结息). Each is booked, notified like a credit and on the statement.
  router.post('/sandbox/reversals', async (req: Request, res: Response) => {
    res.status(201).json(await reverseTransfer(ctx, parseReversal(req.body)));
  });

  router.post('/sandbox/returns', async (req: Request, res: Response) => {
    res.status(201).json(await returnPayment(ctx, parseReturn(req.body)));
  });

  router.post('/sandbox/interest', async (req: Request, res: Response) => {
    const result = await postInterest(ctx, parseInterest(req.body, req.get('Idempotency-Key') ?? undefined));
    res.status(result.replayed ? 200 : 201).json(result);
  });

  router.get('/sandbox/faults', (_req: Request, res: Response) => {
    res.json(faultSettingsJson(ctx.faults.settings));
  });

  router.post('/sandbox/faults', async (req: Request, res: Response) => {
    const settings = parseFaultSettings(req.body ?? {});
    await saveFaultSettings(ctx, settings);
    ctx.faults.set(settings);
    res.json(faultSettingsJson(settings));
  });

  router.get('/sandbox/certificate', (_req: Request, res: Response) => {
    res.status(200).type('application/x-pem-file').send(ctx.signer.certPem);
  });

  // Extras: the notification outbox, so a parked notification is visible and can be retried.
  router.get('/sandbox/notifications', async (req: Request, res: Response) => {
    const status = req.query.status;
    if (status !== undefined && status !== 'pending' && status !== 'delivered' && status !== 'parked') {
      throw new SandboxError(400, 'invalid_request', 'status must be pending, delivered or parked', 'status');
    }
    let query = ctx.db(table(ctx, 'notification_outbox')).orderBy('id', 'desc').limit(notificationsListMax);
    if (status) query = query.where({ status });
    const rows: OutboxRow[] = await query;
    res.json({ object: 'list', data: rows.map(outboxJson) });
  });

  router.post('/sandbox/notifications/:id/retry', async (req: Request, res: Response) => {
    emptyBody(req.body);
    if (!/^\d{1,18}$/.test(String(req.params.id))) throw new SandboxError(404, 'notification_not_found', 'no such notification');
    const [row]: OutboxRow[] = await ctx
      .db(table(ctx, 'notification_outbox'))
      .where({ id: String(req.params.id) })
      .whereIn('status', ['parked', 'pending'])
      .update({ status: 'pending', attempts: 0, next_attempt_at: ctx.db.fn.now() })
      .returning('*');
    if (!row) throw new SandboxError(404, 'notification_not_found', 'no parked or pending notification with that id');
    ctx.wakeNotifier();
    res.json(outboxJson(row));
  });

  router.get('/sandbox/payments/:messageId', async (req: Request, res: Response) => {
    const messageId = String(req.params.messageId);
    // No message was ever stored under an id it could not have had; the database is not asked.
    if (Array.from(messageId).length > paymentMessageIdCharsMax || !isStorableText(messageId)) {
      throw new SandboxError(404, 'message_not_found', 'no payment message with that id');
    }
    const message = await ctx.db(table(ctx, 'payment_messages')).where({ message_id: messageId }).first();
    if (!message) throw new SandboxError(404, 'message_not_found', `no payment message ${messageId}`);
    const rows = await ctx.db(table(ctx, 'payment_instructions')).where({ message_id: messageId }).orderBy('id');
    res.json({
      messageId,
      protocol: message.protocol,
      debtorAccount: message.debtor_account,
      groupStatus: message.group_status,
      groupReasonCode: message.group_reason_code,
      receivedAt: message.received_at.toISOString(),
      instructions: rows.map((r: Record<string, unknown>) => ({
        endToEndId: r.end_to_end_id,
        amount: formatAmount(r.amount_fen as bigint),
        creditor: { accountNumber: r.creditor_number, name: r.creditor_name, bankCode: r.creditor_bank_code },
        status: r.status,
        reasonCode: r.reason_code,
        reasonText: r.reason_text,
        transferRef: r.transfer_ref,
        bookedAt: r.booked_at ? (r.booked_at as Date).toISOString() : null,
        externalPayee: r.external_payee,
        // lateArrivalRate: in the bank's queue, unknown to a status inquiry, until then.
        queuedUntil: r.visible_after ? (r.visible_after as Date).toISOString() : null,
      })),
    });
  });

  return router;
}
