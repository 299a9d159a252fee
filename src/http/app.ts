// Assembles the Express app: request ids and logs, body limits, authentication per route,
// validation from the route's schemas, one transaction per mutation with its idempotency record,
// and the single error mapping.
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Logger } from 'pino';
import swaggerUi from 'swagger-ui-express';
import { z } from 'zod';
import { ApiError, BadRequest, NotFound, PayloadTooLarge, UnsupportedMediaType } from '../errors';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { authenticate, type Caller } from './auth';
import { cookieOptionsFor } from '../users/sessions';
import type { AppDeps } from './deps';
import { enforceRateLimit } from './rateLimit';
import { requestFingerprint, runIdempotent, validateIdempotencyKey } from './idempotency';
import { buildOpenApi } from './openapi';
import { parseJsonBody, type HandlerResult, type RouteContext, type RouteDef } from './route';
import { authenticateWebhook, CertificateRetiredAtClaim, webhookAuthDeps } from './webhookAuth';
import { mountConsole } from './console';
import { translateDbError } from '../db/errors';
import { transactionRetried } from '../db/retry';
import { recordedJobs } from '../queue/outbox';
import { businessDate } from '../domain/time';
import { calendarDaysCoveredAhead, calendarDaysCoveredAheadMin } from '../tables';
import client from 'prom-client';

/** JSON bodies of the API: generous for any real request, small enough to refuse abuse. */
export const jsonBodyBytesMax = 256 * 1024;

/** A request refused before its body was read (too deep, too large, malformed early on) is
 *  answered only once the rest of the body has come in, read and thrown away, for at most this
 *  many bytes and this long: closing a socket with unread data in it sends a TCP reset, which
 *  can reach the client before our answer and is all a client that writes its whole body before
 *  reading sees (a lingering close, as web servers do). Past either bound the answer is sent and
 *  the connection closed: a client still sending then is cut off. */
export const unreadBodyDrainBytesMax = 64 * 1024 * 1024;
export const unreadBodyDrainMs = 10_000;

const requestIdPattern = /^[A-Za-z0-9._-]{1,64}$/;

/** A request that takes longer than this is logged at warn, whatever its status. */
export const slowRequestLogMs = 1000;

declare module 'http' {
  interface IncomingMessage {
    /** The request id: the caller's X-Request-Id when well-formed, else a new one. */
    id: string;
    /** The process's logger with the request on every line. */
    log: Logger;
  }
}

/** The request's child logger, made by `req.log` on its first use. */
const requestChildLog = Symbol('requestChildLog');

/** Request ids and the one line per request. What an operator needs at the production level
 *  (info): every failure (5xx at error), every refusal (4xx at info), every slow request (warn),
 *  and any line a handler writes, all carrying the request. A successful request is logged at
 *  debug, and at info nothing is spent on it: the request's child logger is made only when a
 *  line is written. `req.log` is a getter on the app's request prototype, not on each request:
 *  an accessor defined on the object itself gives every request a hidden class of its own, and
 *  V8 then makes new ones for each property express adds after it, in the old generation (2.6
 *  KB a request, collected only by a major collection). */
function requestLogging(app: express.Express, log: Logger): express.RequestHandler {
  Object.defineProperty(app.request, 'log', {
    configurable: true,
    enumerable: false,
    get(this: Request & { [requestChildLog]?: Logger }) {
      return (this[requestChildLog] ??= log.child({ req: { id: this.id, method: this.method, url: this.url } }));
    },
  });
  return (req, res, next) => {
    const incoming = req.headers['x-request-id'];
    const id = typeof incoming === 'string' && requestIdPattern.test(incoming) ? incoming : `req_${randomUUID()}`;
    req.id = id;
    res.setHeader('X-Request-Id', id);
    const started = performance.now();
    res.once('close', () => {
      const responseTime = Math.round(performance.now() - started);
      if (!res.writableFinished) {
        if (log.isLevelEnabled('info')) req.log.info({ res: { statusCode: res.statusCode }, responseTime }, 'request aborted');
        return;
      }
      const status = res.statusCode;
      const level = status >= 500 ? 'error' : responseTime >= slowRequestLogMs ? 'warn' : status >= 400 ? 'info' : 'debug';
      if (log.isLevelEnabled(level)) req.log[level]({ res: { statusCode: status }, responseTime }, 'request completed');
    });
    next();
  };
}

const anonymous: Caller = { keyId: 'anonymous', role: 'none' };

function isHandlerResult(v: unknown): v is HandlerResult {
  return typeof v === 'object' && v !== null && ('body' in v || 'sent' in v || 'status' in v) && !('object' in v);
}

function zodToBadRequest(err: z.ZodError, where: 'body' | 'query' | 'params'): BadRequest {
  const issue = err.issues[0];
  const param = issue.path.length ? issue.path.join('.') : where;
  const code = issue.code === 'unrecognized_keys' ? 'unknown_field' : issue.code === 'invalid_type' && issue.input === undefined ? 'missing_field' : 'invalid_field';
  const message =
    issue.code === 'unrecognized_keys'
      ? `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')} in ${where}`
      : `${param}: ${issue.message}`;
  return new BadRequest(code, message, issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]].join('.') : param);
}

function readRaw(maxBytes: number): express.RequestHandler[] {
  return [refuseDeclaredTooLarge(maxBytes), express.raw({ type: () => true, limit: maxBytes })];
}

/** A body declared larger than the bound is refused before a byte of it is read (the parser
 *  would read it all first); one that turns out larger is refused by the parser. */
function refuseDeclaredTooLarge(maxBytes: number): express.RequestHandler {
  return (req, _res, next) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    next(Number.isFinite(declared) && declared > maxBytes ? new PayloadTooLarge(maxBytes) : undefined);
  };
}

/** Until its answer is sent, destroying a request whose body has not all been read only stops
 *  reading it. A handler that gives up on an upload destroys the request stream (statement
 *  ingestion does), and destroying an IncomingMessage before the end of its body destroys its
 *  socket: the client got a reset instead of the 400 or 413. A body read to its end is
 *  destroyed as always (the stream does it itself, and 'close' must follow), and so is any
 *  request once its socket is gone (the client left, a server timeout) or the answer is out. */
function answerBeforeClosing(app: express.Express): void {
  // On the app's request prototype rather than on each request, as `req.log` (requestLogging).
  const destroy = http.IncomingMessage.prototype.destroy;
  const stopped = new WeakSet<Request>();
  Object.defineProperty(app.request, 'destroy', {
    configurable: true,
    writable: true,
    value: function destroyOnceAnswered(this: Request, error?: Error) {
      const res = this.res;
      if (!res || this.readableEnded || !this.socket || this.socket.destroyed || res.writableEnded) return destroy.call(this, error);
      if (!stopped.has(this)) {
        stopped.add(this);
        // Answered without reading the rest (the error handler drains it first; nothing else
        // does): the connection cannot carry another request, so it is closed as asked.
        res.once('finish', () => {
          if (!this.readableEnded) destroy.call(this);
        });
      }
      this.unpipe();
      // A reader through 'readable' (`for await`) would keep resume() from flowing the stream.
      this.removeAllListeners('readable');
      this.removeAllListeners('data');
      this.pause();
      return this;
    },
  });
}

/** Reads and discards what is left of a request body, within the bounds above. True when the
 *  body ended (the connection can carry the answer cleanly), false when a bound was hit. */
function drainUnreadBody(req: Request): Promise<boolean> {
  if (req.complete && req.readableEnded) return Promise.resolve(true);
  if (!req.socket || req.socket.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    let bytes = 0;
    const finish = (ended: boolean) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      if (!ended) req.pause();
      resolve(ended);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > unreadBodyDrainBytesMax) finish(false);
    };
    const onEnd = () => finish(true);
    const onClose = () => finish(req.readableEnded);
    const timer = setTimeout(() => finish(false), unreadBodyDrainMs);
    req.removeAllListeners('readable');
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.resume();
  });
}

export function createApp(deps: AppDeps, routes: RouteDef<any, any, any>[]): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Answers are per caller and change with every write; no client revalidates them, and hashing
  // each one for an ETag is work on every request. A voucher's PDF carries its own (its SHA-256).
  app.set('etag', false);
  if (deps.config.BIDBOND_TRUST_PROXY) app.set('trust proxy', true);
  // A bigint in a response means an amount escaped formatting. JSON.stringify already refuses one
  // ("Do not know how to serialize a BigInt"), so the request fails loudly with a 500; a replacer
  // that said so in other words would cost every response a call per value.

  app.use(requestLogging(app, deps.log));

  answerBeforeClosing(app);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks: Record<string, string> = {};
    await Promise.all([
      deps.db.raw('SELECT 1').then(() => (checks.database = 'ok'), () => (checks.database = 'unavailable')),
      deps.redis.ping().then(() => (checks.redis = 'ok'), () => (checks.redis = 'unavailable')),
    ]);
    const ok = Object.values(checks).every((v) => v === 'ok');
    // A calendar running out is degraded, not down: deadlines past it are still computed (from
    // weekends, marked provisional) while an operator loads the next year.
    const today = businessDate(new Date());
    const calendar = { coveredThrough: deps.tables.calendar.coveredThrough(today) ?? null, daysCoveredAhead: calendarDaysCoveredAhead(deps.tables.calendar, today) };
    checks.calendar = calendar.daysCoveredAhead < calendarDaysCoveredAheadMin ? 'degraded' : 'ok';
    res.status(ok ? 200 : 503).json({ status: !ok ? 'not_ready' : checks.calendar === 'ok' ? 'ready' : 'degraded', checks, calendar });
  });
  registerCalendarGauge(deps);
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', deps.metrics.registry.contentType);
    res.send(await deps.metrics.registry.metrics());
  });

  const openApi = buildOpenApi(routes, deps.config);
  app.get('/v1/openapi.json', (_req, res) => {
    res.json(openApi);
  });
  app.use('/docs', swaggerUi.serve, swaggerUi.setup(openApi));

  mountConsole(app, deps.config);
  const requestDepsOf = requestDepsMaker(deps);
  for (const route of routes) mountRoute(app, deps, route, requestDepsOf);

  app.use((req: Request, _res: Response, next: NextFunction) => next(new NotFound('route', `${req.method} ${req.path}`)));
  app.use(errorHandler(deps));
  return app;
}

/** Handlers log through the request's logger, so that every line they write carries the request
 *  id: the deps a handler gets inherit the app's, with `log` read from the request when a line is
 *  written. Each request's deps hold the request and the tables as they were when it came (a
 *  calendar year loaded meanwhile reaches the next request, never half of one), on one prototype
 *  made here, so they all have one shape (an accessor defined on each would give each a hidden
 *  class of its own). */
function requestDepsMaker(deps: AppDeps): (req: Request) => AppDeps {
  const request = Symbol('request');
  type RequestDeps = { -readonly [K in keyof AppDeps]: AppDeps[K] } & { [request]: Request };
  const prototype: AppDeps = Object.create(deps, {
    log: {
      enumerable: true,
      get(this: RequestDeps) {
        return this[request].log;
      },
    },
  });
  return (req) => {
    const d = Object.create(prototype) as RequestDeps;
    d[request] = req;
    d.tables = deps.tables;
    return d;
  };
}

function registerCalendarGauge(deps: AppDeps): void {
  if (deps.metrics.registry.getSingleMetric('bidbond_calendar_days_covered_ahead')) return;
  new client.Gauge({
    name: 'bidbond_calendar_days_covered_ahead',
    help: 'Days from today to the last day the R19 calendar holds the official schedule for (0: this year is not covered)',
    registers: [deps.metrics.registry],
    collect() {
      this.set(calendarDaysCoveredAhead(deps.tables.calendar, businessDate(new Date())));
    },
  });
}

function mountRoute(app: express.Express, deps: AppDeps, route: RouteDef<any, any, any>, requestDepsOf: (req: Request) => AppDeps): void {
  const bodyMode = route.bodyMode ?? (route.method === 'post' ? { kind: 'json' as const } : { kind: 'none' as const });
  const middlewares: express.RequestHandler[] = [];
  if (bodyMode.kind === 'json') middlewares.push(...readRaw(bodyMode.maxBytes ?? jsonBodyBytesMax));
  if (bodyMode.kind === 'raw') middlewares.push(...readRaw(bodyMode.maxBytes));
  const transactional = route.transactional ?? route.method !== 'get';

  app[route.method](route.path, ...middlewares, async (req: Request, res: Response) => {
    const started = process.hrtime.bigint();
    const requestId = String(req.id);
    const rawBody: Buffer | undefined = Buffer.isBuffer(req.body) ? req.body : undefined;

    // Who is calling.
    let caller = anonymous;
    let sender: RouteContext['sender'];
    if ('roles' in route.access) {
      // Before anything else runs: a session's request without its CSRF token stops here.
      caller = await authenticate(req, deps.db, { timing: deps.timing.sessions, cookie: cookieOptionsFor(deps.config) });
      if (caller.role === 'none' || !route.access.roles.includes(caller.role)) throw new NotFound('route', `${req.method} ${req.path}`);
      await enforceRateLimit(deps.redis, deps.config.BIDBOND_QUEUE_PREFIX, caller.keyId, deps.config.BIDBOND_RATE_LIMIT_PER_MINUTE);
    } else if ('webhook' in route.access) {
      sender = await authenticateWebhook(req, rawBody ?? Buffer.alloc(0), webhookAuthDeps(deps), route.access.webhook, String(req.params.id), undefined, {
        rememberedRegistration: route.access.rememberedRegistration === true,
      });
    }
    // A certificate taken from memory and found retired when the call's event was claimed: the
    // call is authenticated again from the database, which refuses it as any call with a retired
    // certificate is (counted, audited) and forgets the certificate.
    const refusedIfRetired = async (err: unknown): Promise<never> => {
      if (err instanceof CertificateRetiredAtClaim && 'webhook' in route.access) {
        await authenticateWebhook(req, rawBody ?? Buffer.alloc(0), webhookAuthDeps(deps), route.access.webhook, String(req.params.id));
      }
      throw err;
    };

    // What they sent. No text column can hold U+0000: a path naming one names no record, and a
    // query carrying one is refused before any query is built from it.
    if (Object.values(req.params).some(containsNul)) throw new NotFound('resource');
    if (containsNul(req.query)) throw new BadRequest('invalid_query', 'a query parameter contains a NUL character');
    const params = route.params ? route.params.safeParse(req.params) : { success: true as const, data: req.params };
    if (!params.success) throw new NotFound('resource', req.path);
    const query = route.query ? route.query.safeParse(req.query) : { success: true as const, data: req.query };
    if (!query.success) throw zodToBadRequest(query.error, 'query');
    let body: unknown;
    if (bodyMode.kind === 'json') {
      const raw = rawBody ?? Buffer.alloc(0);
      if (raw.length === 0) {
        body = {};
      } else {
        if (!req.is('application/json')) throw new UnsupportedMediaType('application/json');
        body = parseJsonBody(raw);
      }
      if (route.body) {
        const parsed = route.body.safeParse(body);
        if (!parsed.success) throw zodToBadRequest(parsed.error, 'body');
        body = parsed.data;
      }
    } else if (bodyMode.kind === 'raw') {
      const ct = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (!bodyMode.contentTypes.includes(ct)) throw new UnsupportedMediaType(bodyMode.contentTypes.join(' or '));
    }

    const requestDeps = requestDepsOf(req);
    const ctxBase = { req, res, body, query: query.data, params: params.data, caller, sender, rawBody, requestId, deps: requestDeps };
    const run = async (tx: RouteContext['tx']) => {
      const out = await route.handler({ ...ctxBase, tx });
      const result: HandlerResult = isHandlerResult(out) ? out : { body: out };
      return result;
    };

    let result: HandlerResult;
    const idemKey = req.get('idempotency-key');
    const useIdempotency = (route.idempotent ?? ('roles' in route.access && route.method === 'post')) && idemKey !== undefined;
    if (transactional) {
      if (useIdempotency) validateIdempotencyKey(idemKey!);
      let jobsRecorded = false;
      result = await transactionRetried(deps.db, async (tx) => {
        jobsRecorded = false;
        const done = () => {
          jobsRecorded = recordedJobs(tx);
        };
        if (!useIdempotency) return run(tx).finally(done);
        const stored = await runIdempotent(
          tx,
          { callerId: caller.keyId, key: idemKey!, method: req.method, path: req.path, fingerprint: requestFingerprint(req.method, req.path, body) },
          async () => {
            const r = await run(tx);
            return { status: r.status ?? route.successStatus ?? 200, body: r.body };
          },
        );
        done();
        return { status: stored.status, body: stored.body, headers: stored.replayed ? { 'Idempotent-Replayed': 'true' } : {} };
      }, (err, attempt) => {
        deps.metrics.transactionsRetried.inc({ route: route.path });
        req.log.warn({ err, attempt }, 'transaction aborted by the database; running it again');
      }).catch(refusedIfRetired);
      if (jobsRecorded) deps.outbox.kick();
    } else {
      result = await run(deps.db).catch(refusedIfRetired);
    }

    if (!result.sent) {
      for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, v);
      res.status(result.status ?? route.successStatus ?? 200).json(result.body ?? null);
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    deps.metrics.httpDuration.observe({ method: route.method, route: route.path }, seconds);
    deps.metrics.httpRequests.inc({ method: route.method, route: route.path, status: String(res.statusCode) });
  });
}

function containsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (Array.isArray(value)) return value.some(containsNul);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => k.includes('\u0000') || containsNul(v));
  return false;
}

function errorHandler(deps: AppDeps) {
  // Express recognises an error handler by its four parameters.
  return async (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    // Answer only once the body is in (or a bound is hit), so the answer is not lost to a reset.
    if (!(await drainUnreadBody(req))) res.setHeader('Connection', 'close');
    const requestId = String(req.id ?? `req_${randomUUID()}`);
    let apiError: ApiError | undefined;
    const e = err as { type?: string; status?: number; code?: string };
    if (err instanceof ApiError) apiError = err;
    else if (e?.type === 'entity.too.large') apiError = new PayloadTooLarge(Number((err as { limit?: number }).limit ?? jsonBodyBytesMax));
    else if (e?.type === 'request.aborted') apiError = new BadRequest('request_aborted', 'the request body was not received in full');
    else if (e?.type === 'encoding.unsupported' || e?.type === 'charset.unsupported') apiError = new UnsupportedMediaType('utf-8 content');
    // The router's decoding of a path parameter that is not percent-encoded UTF-8 ("%E4%B8").
    else if (err instanceof URIError) apiError = new BadRequest('malformed_url', 'the URL is not percent-encoded UTF-8');
    else apiError = translateDbError(err);
    if (!apiError) {
      req.log?.error({ err }, 'unhandled error');
      res.status(500).json({ error: { type: 'api_error', code: 'internal_error', message: 'internal error', requestId } });
      return;
    }
    if (apiError.status === 429 && 'retryAfterSeconds' in apiError) res.setHeader('Retry-After', String((apiError as { retryAfterSeconds: number }).retryAfterSeconds));
    const body: Record<string, unknown> = { type: apiError.type, code: apiError.code, message: apiError.message };
    if (apiError.extra.rule) body.rule = apiError.extra.rule;
    if (apiError.extra.param) body.param = apiError.extra.param;
    if (apiError.extra.details !== undefined) body.details = apiError.extra.details;
    body.requestId = requestId;
    deps.metrics.httpRequests.inc({ method: req.method.toLowerCase(), route: req.route?.path ?? 'unmatched', status: String(apiError.status) });
    res.status(apiError.status).json({ error: body });
  };
}
