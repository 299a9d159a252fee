// The one line per request and the request id (what an operator reads at the production level),
// and the deps a handler gets for its request.
import pino from 'pino';
import request from 'supertest';
import type { Express } from 'express';
import { z } from 'zod';
import type { Runtime } from '../../src/runtime';
import { defaultBusinessTables, type BusinessTables } from '../../src/tables';
import { createApp } from '../../src/http/app';
import { defineRoute } from '../../src/http/route';
import { startTestRuntime, testApp } from '../support/runtime';

interface Line {
  level: number;
  msg: string;
  req?: { id: string; method: string; url: string };
  res?: { statusCode: number };
}

let rt: Runtime;
let app: Express;
const lines: Line[] = [];
const linesOf = (id: string) => lines.filter((l) => l.req?.id === id);
/** Ids of this file's own requests, so that its assertions read only its own lines. */
const idOf = (name: string) => `requestlog.${name}.${process.pid}.${Date.now()}`;

beforeAll(async () => {
  rt = await startTestRuntime({}, { log: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) }) });
  app = testApp(rt);
});
afterAll(async () => {
  await rt.close();
});

describe('request ids and the line per request', () => {
  it('echoes a well-formed X-Request-Id and writes nothing at info for a request that succeeded', async () => {
    const id = idOf('ok');
    const res = await request(app).get('/healthz').set('X-Request-Id', id);
    expect(res.status).toBe(200);
    expect(res.headers['x-request-id']).toBe(id);
    expect(linesOf(id)).toEqual([]);
  });

  it('writes one line at info for a refusal, carrying the request id, method, url and status', async () => {
    const id = idOf('refused');
    const res = await request(app).get('/v1/sections?limit=5').set('X-Request-Id', id);
    expect(res.status).toBe(401);
    expect(linesOf(id)).toEqual([
      expect.objectContaining({ level: 30, msg: 'request completed', req: { id, method: 'GET', url: '/v1/sections?limit=5' }, res: { statusCode: 401 } }),
    ]);
  });

  it('replaces a malformed X-Request-Id with its own, and logs under the id it answered with', async () => {
    const res = await request(app).get('/v1/sections').set('X-Request-Id', 'not an id!');
    const id = res.headers['x-request-id'];
    expect(id).toMatch(/^req_[0-9a-f-]{36}$/);
    expect(linesOf(id)).toEqual([expect.objectContaining({ msg: 'request completed', req: expect.objectContaining({ id, url: '/v1/sections' }) })]);
    expect(lines.some((l) => l.req?.id === 'not an id!')).toBe(false);
  });

  it('keeps each of many requests at once on its own line, with its own id and url', async () => {
    const ids = Array.from({ length: 12 }, (_, i) => idOf(`concurrent${i}`));
    const answers = await Promise.all(ids.map((id, i) => request(app).get(`/v1/sections?n=${i}`).set('X-Request-Id', id)));
    expect(answers.map((a) => a.status)).toEqual(ids.map(() => 401));
    for (const [i, id] of ids.entries()) {
      expect(linesOf(id)).toEqual([expect.objectContaining({ req: { id, method: 'GET', url: `/v1/sections?n=${i}` }, res: { statusCode: 401 } })]);
    }
  });
});

describe("a handler's own lines", () => {
  // A route of this file's own: it writes a line through the deps it is given, after a pause so
  // that requests at once overlap, and says whether those deps are the app's.
  const handlerLine = defineRoute<undefined, { n: string }>({
    method: 'get', path: '/v1/test-handler-line', operationId: 'testHandlerLine', summary: 'writes a line', tags: ['test'],
    access: { public: true }, query: z.object({ n: z.string() }),
    handler: async (ctx) => {
      await new Promise((r) => setTimeout(r, 5));
      ctx.deps.log.info({ n: ctx.query.n }, 'handler line');
      return { sameDb: ctx.deps.db === rt.db, sameConfig: ctx.deps.config === rt.config };
    },
  });

  it('carry the request id of the request that made them, many requests at once, with the rest of the deps the app\'s', async () => {
    const own = createApp(rt, [handlerLine]);
    const ids = Array.from({ length: 8 }, (_, i) => idOf(`handler${i}`));
    const answers = await Promise.all(ids.map((id, i) => request(own).get(`/v1/test-handler-line?n=${i}`).set('X-Request-Id', id)));
    for (const [i, id] of ids.entries()) {
      expect(answers[i].body).toEqual({ sameDb: true, sameConfig: true });
      expect(linesOf(id)).toEqual([expect.objectContaining({ level: 30, msg: 'handler line', n: String(i), req: { id, method: 'GET', url: `/v1/test-handler-line?n=${i}` } })]);
    }
  });
});

describe('the tables a request sees', () => {
  // A route of this file's own: it reads its deps' tables, waits until the test lets it go on,
  // and reads them again.
  let started: () => void = () => undefined;
  let goOn: Promise<void> = Promise.resolve();
  const seen: BusinessTables[][] = [];
  const tablesTwice = defineRoute<undefined, undefined>({
    method: 'get', path: '/v1/test-tables-twice', operationId: 'testTablesTwice', summary: 'reads the tables twice', tags: ['test'],
    access: { public: true },
    handler: async (ctx) => {
      const first = ctx.deps.tables;
      started();
      await goOn;
      seen.push([first, ctx.deps.tables]);
      return {};
    },
  });

  it('stay as they were when the request came while the runtime takes newer ones; the next request sees those', async () => {
    const own = createApp(rt, [tablesTwice]);
    const before = rt.tables;
    // The runtime's refresh replaces its tables with a new object when a stored year comes.
    const refreshed: BusinessTables = { ...defaultBusinessTables };
    let letGo: () => void = () => undefined;
    goOn = new Promise((r) => (letGo = r));
    const inHandler = new Promise<void>((r) => (started = r));
    try {
      const during = request(own).get('/v1/test-tables-twice').then((res) => res.status);
      await inHandler;
      rt.tables = refreshed;
      letGo();
      expect(await during).toBe(200);
      goOn = Promise.resolve();
      expect((await request(own).get('/v1/test-tables-twice')).status).toBe(200);
    } finally {
      rt.tables = before;
    }
    expect(seen).toHaveLength(2);
    expect(seen[0][0]).toBe(before);
    expect(seen[0][1]).toBe(before);
    expect(seen[1][0]).toBe(refreshed);
    expect(seen[1][1]).toBe(refreshed);
  });
});
