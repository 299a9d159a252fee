// A route is declared once, with the schemas that validate its input; the same declarations
// produce the OpenAPI document, so the description can never drift from what is enforced.
import type { Request, Response } from 'express';
import type { Knex } from 'knex';
import { z } from 'zod';
import { parseJsonStrict, RepeatedJsonKey } from '../domain/json';
import { BadRequest } from '../errors';
import type { AppDeps } from './deps';
import type { Caller, Role } from './auth';
import type { WebhookSender } from './webhookAuth';

export type Access =
  | { roles: readonly Role[] }
  | { public: true }
  | {
      webhook: 'issuer' | 'bank';
      /** The handler's transaction checks that the certificate is still unretired when it
       *  claims the call's event, so its registration may come from memory (webhookAuth.ts). */
      rememberedRegistration?: true;
    };

export interface RouteContext<B = unknown, Q = unknown, P = unknown> {
  req: Request;
  res: Response;
  body: B;
  query: Q;
  params: P;
  /** Present on routes for API-key callers. */
  caller: Caller;
  /** Present on signed webhook routes. */
  sender?: WebhookSender;
  /** Raw request bytes (webhooks and non-JSON bodies). */
  rawBody?: Buffer;
  requestId: string;
  /** The unit of work: a transaction on mutating routes, the pool on reads. */
  tx: Knex | Knex.Transaction;
  deps: AppDeps;
}

export interface HandlerResult {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** The handler wrote the response itself (PDF, CSV, streams). */
  sent?: boolean;
}

export type BodyMode =
  | { kind: 'json'; maxBytes?: number }
  | { kind: 'raw'; maxBytes: number; contentTypes: readonly string[] }
  | { kind: 'none' };

export interface RouteDef<B = any, Q = any, P = any> {
  method: 'get' | 'post' | 'put' | 'delete';
  path: string;
  operationId: string;
  summary: string;
  tags: string[];
  access: Access;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  bodyMode?: BodyMode;
  response?: z.ZodType;
  /** Non-JSON responses, for the OpenAPI document. */
  produces?: string[];
  successStatus?: number;
  /** Mutations run in one transaction with their idempotency record and audit events.
   *  Defaults to true for POST and DELETE. */
  transactional?: boolean;
  /** Caller POSTs accept Idempotency-Key; defaults to true for POST by API-key callers. */
  idempotent?: boolean;
  handler: (ctx: RouteContext<B, Q, P>) => Promise<HandlerResult | unknown>;
}

export function defineRoute<B = undefined, Q = undefined, P = undefined>(def: RouteDef<B, Q, P>): RouteDef<B, Q, P> {
  return def;
}

/** Express path "/v1/sections/:id" → OpenAPI "/v1/sections/{id}". */
export function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** The unit of work of a mutating route: the app runs every POST and DELETE in a transaction
 *  (`transactional`), so a handler that writes asks for it by this name instead of casting. */
/** A JSON request body as every route reads it: refused with a 400 when it is not JSON or when an
 *  object in it names a key twice (domain/json.ts). */
export function parseJsonBody(raw: Buffer): unknown {
  try {
    return parseJsonStrict(raw.toString('utf8'));
  } catch (e) {
    if (e instanceof RepeatedJsonKey) throw new BadRequest('repeated_key', `body ${e.message}`, e.param);
    throw new BadRequest('malformed_json', 'the request body is not valid JSON');
  }
}

export function transactionOf(tx: Knex | Knex.Transaction): Knex.Transaction {
  if ((tx as Knex.Transaction).isTransaction !== true) throw new Error('assertion failed: a mutating route runs in a transaction');
  return tx as Knex.Transaction;
}
