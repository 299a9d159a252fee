// `bidbond openapi`: the OpenAPI document the api serves at /v1/openapi.json, without starting
// anything. The console's typed client is generated from it at build time, so a change of a
// route's schema breaks the console's build instead of one of its pages.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config';

export function addOpenApiCommand(program: Command, config: () => Config): void {
  program
    .command('openapi')
    .description('print the OpenAPI document (or write it to --out FILE)')
    .option('--out <file>', 'write the document to this file instead of standard output')
    .action((opts: { out?: string }) => {
      // Every route's schemas are loaded when this command runs, not whenever the program starts.
      const { allRoutes } = require('../app/api') as typeof import('../app/api');
      const { buildOpenApi } = require('../http/openapi') as typeof import('../http/openapi');
      const text = `${JSON.stringify(buildOpenApi(allRoutes(), config()), null, 2)}\n`;
      if (!opts.out) {
        process.stdout.write(text);
        return;
      }
      mkdirSync(path.dirname(path.resolve(opts.out)), { recursive: true });
      writeFileSync(opts.out, text);
    });
}
