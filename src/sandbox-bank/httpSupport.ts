// HTTP plumbing shared by the simulator's routes: the one error mapper, the http500 fault gate
// and the hang used by the timeout fault.
import type { NextFunction, Request, Response } from 'express';
import type { SandboxContext } from './context';
import type { SandboxLogger } from './config';
import { SandboxError } from './errors';

export function sendError(res: Response, status: number, code: string, message: string, param?: string): void {
  res.status(status).json({ error: { type: status >= 500 ? 'api_error' : 'invalid_request_error', code, message, ...(param ? { param } : {}) } });
}

/** Maps every error once: our own SandboxErrors as they say, body-parser's by its status, the
 *  rest as a 500 that names nothing internal (the log has it). */
export function errorHandler(logger: SandboxLogger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof SandboxError) return sendError(res, err.status, err.code, err.message, err.param);
    const e = err as { status?: number; type?: string; message?: string };
    if (e.type === 'entity.too.large') return sendError(res, 413, 'body_too_large', 'request body too large');
    if (e.type === 'entity.parse.failed') return sendError(res, 400, 'invalid_json', 'request body is not valid JSON');
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) return sendError(res, e.status, 'invalid_request', e.message ?? 'bad request');
    logger.error('sandbox bank: internal error', err);
    sendError(res, 500, 'internal_error', 'internal error');
  };
}

/** http500Rate: a share of protocol requests fail with 500 before anything is done, the way an
 *  overloaded gateway fails: the caller cannot tell this from a lost answer. */
export function http500Fault(ctx: SandboxContext) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    if (ctx.faults.roll('http500')) {
      res.status(500).type('text/plain').send('internal server error (sandbox fault injection: http500Rate)');
      return;
    }
    next();
  };
}

/** Answers held back by the timeout fault. On close they are cut off (the client sees what it
 *  would see of a bank that died mid-request); the payments themselves are already recorded. */
export class HeldResponses {
  private readonly held = new Map<NodeJS.Timeout, Response>();

  hold(res: Response, delayMs: number, send: () => void): void {
    const timer = setTimeout(() => {
      this.held.delete(timer);
      if (!res.destroyed) send();
    }, delayMs);
    this.held.set(timer, res);
  }

  clear(): void {
    for (const [timer, res] of this.held) {
      clearTimeout(timer);
      res.destroy();
    }
    this.held.clear();
  }
}
