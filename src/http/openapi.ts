// The OpenAPI 3.1 document, generated from the very schemas that validate requests.
import { z } from 'zod';
import type { Config } from '../config';
import { errorSchema } from './schemas';
import { openApiPath, type RouteDef } from './route';

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as Record<string, unknown>;
  return rest;
}

export function buildOpenApi(routes: RouteDef<any, any, any>[], config: Config): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const parameters: unknown[] = [];
    for (const [where, schema] of [['path', r.params], ['query', r.query]] as const) {
      if (!schema) continue;
      const js = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {})) {
        parameters.push({ name, in: where, required: where === 'path' || (js.required ?? []).includes(name), schema: s });
      }
    }
    const security =
      'roles' in r.access
        ? [{ apiKey: [] }, { sessionCookie: [] }]
        : 'webhook' in r.access
          ? [{ signedTimestamp: [], signedCertificate: [], signature: [] }]
          : [];
    const op: Record<string, unknown> = {
      operationId: r.operationId,
      summary: r.summary,
      tags: r.tags,
      security,
      parameters,
      responses: {
        [String(r.successStatus ?? 200)]: r.produces
          ? { description: 'OK', content: Object.fromEntries(r.produces.map((t) => [t, {}])) }
          : { description: 'OK', content: { 'application/json': { schema: r.response ? jsonSchema(r.response, 'output') : {} } } },
        default: { description: 'Error', content: { 'application/json': { schema: jsonSchema(errorSchema, 'output') } } },
      },
    };
    if ('roles' in r.access) op['x-roles'] = r.access.roles;
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(r.body, 'input') } } };
    else if (r.bodyMode?.kind === 'raw') op.requestBody = { required: true, content: Object.fromEntries(r.bodyMode.contentTypes.map((t) => [t, {}])) };
    (paths[openApiPath(r.path)] ??= {})[r.method] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'bidbond', version: '1', description: 'Bid security clearing: e-guarantees, cash deposits, refunds, signed vouchers, reconciliation.' },
    servers: [{ url: config.BIDBOND_PUBLIC_URL ?? '/' }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'API key created with `bidbond keys create`' },
        sessionCookie: { type: 'apiKey', in: 'cookie', name: 'bidbond_session', description: 'a person\'s session from POST /v1/session; every method but GET and HEAD also sends X-CSRF-Token: <csrfToken>' },
        signedTimestamp: { type: 'apiKey', in: 'header', name: 'Bidbond-Timestamp' },
        signedCertificate: { type: 'apiKey', in: 'header', name: 'Bidbond-Certificate' },
        signature: { type: 'apiKey', in: 'header', name: 'Bidbond-Signature', description: 'base64 RSA-SHA256 over "<timestamp>.<raw body>"' },
      },
    },
    paths,
  };
}
