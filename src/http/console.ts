// The console (/console/) and the public verification pages (/verify, /verify/<voucherId>,
// /verify/guarantee) are one single-page application built by Vite into console/dist and served
// by the api itself: no CDN, nothing a phone or a desk needs from anywhere else.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import express, { type Request, type Response } from 'express';
import type { Config } from '../config';

export const consoleDistDirectory = path.resolve(__dirname, '../../console/dist');

/** Paths the application answers with its page; the browser-side router takes it from there. */
export const consolePagePaths = ['/console', '/console/*rest', '/verify', '/verify/*rest'];

/** Hashed assets never change under their name; the page itself must always be asked again. */
const assetMaxAgeSeconds = 365 * 24 * 3600;

/** Ant Design writes its styles at run time (CSS-in-JS), hence 'unsafe-inline' for styles only;
 *  scripts come from this origin alone, and no page may be framed (clickjacking of a decision). */
const contentSecurityPolicy = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

function securityHeaders(res: Response): void {
  res.setHeader('Content-Security-Policy', contentSecurityPolicy);
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Frame-Options', 'DENY');
}

export function mountConsole(app: express.Express, config: Pick<Config, 'isProduction'>, dist = consoleDistDirectory): void {
  const indexFile = path.join(dist, 'index.html');
  // Read once: the page is small, and a build replaced under a running process is a new release.
  let page: string | undefined;
  const readPage = () => (page ??= existsSync(indexFile) ? readFileSync(indexFile, 'utf8') : undefined);

  app.use(
    '/console/assets',
    (_req, res, next) => {
      securityHeaders(res);
      next();
    },
    express.static(path.join(dist, 'assets'), { immutable: true, maxAge: assetMaxAgeSeconds * 1000, index: false, fallthrough: true }),
  );
  app.get('/console/favicon.svg', (_req, res) => {
    res.sendFile(path.join(dist, 'favicon.svg'), { maxAge: assetMaxAgeSeconds * 1000 }, () => undefined);
  });
  app.get(consolePagePaths, (_req: Request, res: Response) => {
    securityHeaders(res);
    // Outside production a rebuilt console is picked up without a restart.
    if (!config.isProduction) page = undefined;
    const html = readPage();
    if (!html) {
      res.status(503).type('text/plain; charset=utf-8').send('The console is not built: run `npm run console:build` (npm ci runs it).\n');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(html);
  });
}
