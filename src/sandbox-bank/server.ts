// Starts the sandbox bank: its schema, signing key, fault plan, HTTP server and the two
// background loops (settlement of payment instructions, delivery of credit notifications).
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import express from 'express';
import { createDb } from '../db/knex';
import { ensureDevPki } from '../pki/devPki';
import { parseCertificatePem } from '../pki/certs';
import { normalizeSandboxConfig, SandboxConfigError, type SandboxConfig, type SandboxConfigInput } from './config';
import type { SandboxContext, SandboxSigner } from './context';
import { ensureSandboxSchema } from './schema';
import { FaultInjector } from './faults';
import { ensureTrustAccount } from './accounts';
import { Notifier } from './notifier';
import { Settler } from './payments';
import { errorHandler, HeldResponses, sendError } from './httpSupport';
import { customerRoutes, loadFaultSettings } from './customerRoutes';
import { isoRoutes } from './isoRoutes';
import { cnh2hRoutes } from './cnh2hRoutes';

/** The simulator's own connection pool: small, it shares the server with the service. */
export const sandboxDbPoolMax = 8;
/** How long close() lets in-flight requests finish before cutting their connections. */
export const closeGraceMs = 2_000;

export interface SandboxBank {
  url: string;
  port: number;
  config: SandboxConfig;
  close(): Promise<void>;
}

/** A wildcard address is where the server listens, not where a client connects. */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export function loadSigner(config: SandboxConfig): SandboxSigner {
  let keyPath = config.signingKeyPath;
  let certPath = config.signingCertPath;
  if (!!keyPath !== !!certPath) throw new SandboxConfigError('SANDBOX_SIGNING_KEY and SANDBOX_SIGNING_CERT go together: give both or neither');
  if (!keyPath || !certPath) {
    // No key configured: the development PKI's sandbox certificate, chained to the dev root
    // that the service trusts in development.
    const dev = ensureDevPki(path.join(config.dataDir, 'pki'));
    keyPath = dev.sandboxKey;
    certPath = dev.sandboxCert;
  }
  const keyPem = readFileSync(keyPath, 'utf8');
  const certPem = readFileSync(certPath, 'utf8');
  const { info } = parseCertificatePem(certPem);
  return { keyPem, certPem: info.pem, fingerprint: info.fingerprint };
}

export async function startSandboxBank(input: SandboxConfigInput | SandboxConfig): Promise<SandboxBank> {
  const config = normalizeSandboxConfig(input);
  const signer = loadSigner(config);
  const db = createDb(config.databaseUrl, { poolMax: sandboxDbPoolMax });
  let server: Server | undefined;
  try {
    const instanceTag = await ensureSandboxSchema(db, config.schema);
    const faults = new FaultInjector((await loadFaultSettings({ db, config })) ?? undefined);
    let notifier: Notifier | undefined;
    let settler: Settler | undefined;
    const ctx: SandboxContext = {
      db,
      config,
      faults,
      signer,
      instanceTag,
      wakeNotifier: () => notifier?.wake(),
      wakeSettler: () => settler?.wake(),
    };
    notifier = new Notifier(ctx);
    settler = new Settler(ctx);
    await ensureTrustAccount(ctx);

    const held = new HeldResponses();
    const app = express();
    app.disable('x-powered-by');
    app.use(customerRoutes(ctx));
    app.use(isoRoutes(ctx, held));
    app.use(cnh2hRoutes(ctx, held));
    app.use((_req, res) => sendError(res, 404, 'not_found', 'no such endpoint'));
    app.use(errorHandler(config.logger));

    server = await new Promise<Server>((resolve, reject) => {
      const s = app.listen(config.port, config.host, (err?: Error) => (err ? reject(err) : resolve(s)));
      s.once('error', reject);
    });
    const port = (server.address() as AddressInfo).port;
    notifier.start();
    settler.start();
    const running = server;
    let closing: Promise<void> | undefined;
    return {
      url: `http://${urlHost(config.host)}:${port}`,
      port,
      config,
      close: () =>
        (closing ??= (async () => {
          held.clear();
          await Promise.all([notifier!.stop(), settler!.stop()]);
          await new Promise<void>((resolve) => {
            const cut = setTimeout(() => running.closeAllConnections(), closeGraceMs);
            running.close(() => {
              clearTimeout(cut);
              resolve();
            });
            running.closeIdleConnections();
          });
          await db.destroy();
        })()),
    };
  } catch (e) {
    server?.close();
    await db.destroy();
    throw e;
  }
}
