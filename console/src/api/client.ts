// The typed client of the service's own API. Its types are generated from the OpenAPI document
// the routes' schemas produce (`npm run console:build`), so a changed schema fails the build.
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from '../../generated/api';

export type { paths } from '../../generated/api';

let csrfToken: string | undefined;

/** The session's token, sent on every change (the api refuses a change without it). */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token;
}

export function currentCsrfToken(): string | undefined {
  return csrfToken;
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (csrfToken && request.method !== 'GET' && request.method !== 'HEAD') request.headers.set('X-CSRF-Token', csrfToken);
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: window.location.origin, credentials: 'same-origin' });
api.use(csrf);

/** An error answer of the API: status, its code and, where a rule was broken, the rule's id. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly rule?: string,
  ) {
    super(message);
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; rule?: string };
}

/** The data of a successful answer, or an ApiFailure carrying the API's own words. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || !result.response.ok) {
    const e = (result.error as ErrorBody | undefined)?.error;
    throw new ApiFailure(result.response.status, e?.code ?? 'http_error', e?.message ?? result.response.statusText, e?.rule);
  }
  return result.data as T;
}

/** Sends a file as the request body (statements, PDFs to verify): openapi-fetch would JSON-encode it. */
export async function upload(path: string, file: Blob, contentType: string): Promise<unknown> {
  const headers: Record<string, string> = { 'Content-Type': contentType };
  if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, { method: 'POST', body: file, headers, credentials: 'same-origin' });
  const body = (await response.json().catch(() => ({}))) as ErrorBody;
  if (!response.ok) throw new ApiFailure(response.status, body.error?.code ?? 'http_error', body.error?.message ?? response.statusText, body.error?.rule);
  return body;
}
