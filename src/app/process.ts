// A bidbond process from its parts: infrastructure (the embedded PostgreSQL and Redis on the
// development default), the runtime, then the api, the worker and the sandbox bank as asked.
// Parts start in that order and stop in the reverse one, so the api stops taking requests and the
// worker drains before the database and Redis they use go away; each stop prints one line.
import type { Server } from 'node:http';
import { rmSync, writeFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Config } from '../config';
import type { DomainModule } from '../module';
import { createLogger, type Runtime } from '../runtime';
import type { Timing } from '../timing';
import { buildApi } from './api';
import { domainModules } from './modules';
import { createRuntime, resolveInfrastructure, runtimeFile, type Infrastructure } from './runtime';
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
  /** Stops every part in the reverse order of their start; safe to call twice. */
  stop(): Promise<void>;
}

interface Part {
  name: string;
  stop(): Promise<void>;
}

/** Stops parts last-started first; one line per part, and a failing stop does not keep the
 *  others running. */
async function stopParts(parts: Part[], report: (line: string) => void): Promise<void> {
  for (const part of [...parts].reverse()) {
    try {
      await part.stop();
      report(`stopped ${part.name}`);
    } catch (e) {
      report(`stopping ${part.name} failed: ${(e as Error).message}`);
    }
  }
  parts.length = 0;
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
  const started: Part[] = [];
  try {
    const infra = await resolveInfrastructure(config, log);
    started.push({ name: 'embedded services', stop: () => infra.stop() });
    const rt = await createRuntime(config, infra, { log, migrate: true, timing: opts.timing });
    started.push({ name: 'runtime (database pool, Redis, queues)', stop: () => rt.close() });
    if (!config.DATABASE_URL || !config.REDIS_URL) {
      writeFileSync(runtimeFile(config), JSON.stringify({ databaseUrl: infra.databaseUrl, redisUrl: infra.redisUrl, pid: process.pid }), { mode: 0o600 });
      started.push({ name: 'runtime file', stop: async () => rmSync(runtimeFile(config), { force: true }) });
    }
    let apiUrl = '';
    if (parts.api) {
      const server = await listen(buildApi(rt, modules), config);
      const addr = server.address();
      apiUrl = `http://${config.HOST}:${typeof addr === 'object' && addr ? addr.port : config.PORT}`;
      log.info({ url: apiUrl }, `api listening; docs at ${apiUrl}/docs`);
      started.push({
        name: 'api',
        stop: () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            // Keep-alive connections idle between requests would hold the close open.
            server.closeIdleConnections();
          }),
      });
    }
    if (parts.worker) {
      const workers = await buildWorker(rt, infra.redisUrl, modules);
      log.info('worker started');
      started.push({ name: 'worker', stop: () => workers.close() });
    }
    let sandbox: RunningService['sandbox'];
    if (parts.sandbox) {
      const s = await startEmbeddedSandbox(rt, infra.databaseUrl, apiUrl, log);
      sandbox = { url: s.url, bankId: s.bankId };
      started.push({ name: 'sandbox bank', stop: () => s.close() });
    }
    return { rt, infra, apiUrl, sandbox, stop: () => stopParts(started, report) };
  } catch (e) {
    await stopParts(started, () => {});
    throw e;
  }
}
