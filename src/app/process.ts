// A bidbond process from its parts: infrastructure (the embedded PostgreSQL and Redis on the
// development default), the runtime, then the api, the worker and the sandbox bank as asked.
// The api, the worker and the sandbox bank stop first, in that order: the api stops taking
// requests, the worker drains the jobs that may still call the bank, then the bank stops. The
// infrastructure they all use stops after them, last-started first, the embedded services last.
// Each stop prints one line.
import type { Server } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { DomainModule } from '../module';
import { createLogger, type Runtime } from '../runtime';
import type { Timing } from '../timing';
import { buildApi } from './api';
import { domainModules } from './modules';
import { resolveInfrastructure, runtimeFile, type Infrastructure } from './infrastructure';
import { createRuntime } from './runtime';
import { startEmbeddedSandbox } from './sandbox';
import { buildWorker } from './worker';

export interface ServiceParts {
  api: boolean;
  worker: boolean;
  sandbox: boolean;
}

export interface RunningService {
  rt: Runtime;
  infra: Infrastructure;
  /** Empty when the api is not part of this process. */
  apiUrl: string;
  sandbox?: { url: string; bankId: string };
  /** Stops the services, then what they use; a second call waits for the first. */
  stop(): Promise<void>;
}

interface Part {
  name: string;
  stop(): Promise<void>;
}

/** What a process has started: the infrastructure the services use, and the services. */
interface Started {
  foundations: Part[];
  services: Part[];
}

/** How long the api lets requests in flight finish before cutting their connections. */
export const apiCloseGraceMs = 10_000;

/** Stops the services in the order they started, then the foundations last-started first; one
 *  line per part, and a failing stop does not keep the others running. */
async function stopParts(started: Started, report: (line: string) => void): Promise<void> {
  const order = [...started.services, ...[...started.foundations].reverse()];
  started.services.length = 0;
  started.foundations.length = 0;
  for (const part of order) {
    try {
      await part.stop();
      report(`stopped ${part.name}`);
    } catch (e) {
      report(`stopping ${part.name} failed: ${(e as Error).message}`);
    }
  }
}

function listen(app: ReturnType<typeof buildApi>, config: Config): Promise<Server> {
  const server = app.listen(config.PORT, config.HOST);
  return new Promise((resolve, reject) => {
    server.once('listening', () => resolve(server));
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE' ? new Error(`port ${config.PORT} on ${config.HOST} is in use: set PORT to a free one`) : e));
  });
}

export async function startService(
  config: Config,
  parts: ServiceParts,
  opts: { log?: Logger; modules?: readonly DomainModule[]; timing?: Timing; report?: (line: string) => void } = {},
): Promise<RunningService> {
  const log = opts.log ?? createLogger(config);
  const report = opts.report ?? ((line: string) => log.info(line));
  const modules = opts.modules ?? domainModules;
  const started: Started = { foundations: [], services: [] };
  const embedded = !config.DATABASE_URL || !config.REDIS_URL;
  try {
    const infra = await resolveInfrastructure(config, log);
    if (embedded) started.foundations.push({ name: 'embedded services', stop: () => infra.stop() });
    const rt = await createRuntime(config, infra, { log, migrate: true, timing: opts.timing });
    started.foundations.push({ name: 'runtime (database pool, Redis, queues)', stop: () => rt.close() });
    if (embedded) {
      writeFileSync(runtimeFile(config), JSON.stringify({ databaseUrl: infra.databaseUrl, redisUrl: infra.redisUrl, pid: process.pid }), { mode: 0o600 });
      started.foundations.push({ name: 'runtime file', stop: async () => rmSync(runtimeFile(config), { force: true }) });
    }
    let apiUrl = '';
    if (parts.api) {
      const server = await listen(buildApi(rt, modules), config);
      const addr = server.address();
      apiUrl = `http://${config.HOST}:${typeof addr === 'object' && addr ? addr.port : config.PORT}`;
      log.info({ url: apiUrl }, `api listening; docs at ${apiUrl}/docs`);
      started.services.push({
        name: 'api',
        stop: () =>
          new Promise<void>((resolve) => {
            const cut = setTimeout(() => server.closeAllConnections(), apiCloseGraceMs);
            server.close(() => {
              clearTimeout(cut);
              resolve();
            });
            // Keep-alive connections idle between requests would hold the close open.
            server.closeIdleConnections();
          }),
      });
    }
    if (parts.worker) {
      const workers = await buildWorker(rt, infra.redisUrl, modules);
      log.info('worker started');
      started.services.push({ name: 'worker', stop: () => workers.close() });
    }
    let sandbox: RunningService['sandbox'];
    if (parts.sandbox) {
      const s = await startEmbeddedSandbox(rt, infra.databaseUrl, apiUrl, log);
      sandbox = { url: s.url, bankId: s.bankId };
      started.services.push({ name: 'sandbox bank', stop: () => s.close() });
    }
    let stopping: Promise<void> | undefined;
    return { rt, infra, apiUrl, sandbox, stop: () => (stopping ??= stopParts(started, report)) };
  } catch (e) {
    await stopParts(started, () => {});
    throw e;
  }
}
