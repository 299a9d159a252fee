// `bidbond sandbox-bank`: the bank simulator as its own process.
import path from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../config';

export function addSandboxCommand(program: Command, config: () => Config): void {
  program
    .command('sandbox-bank')
    .description('the sandbox bank simulator as its own process (SANDBOX_* environment; see README)')
    .action(async () => {
      const c = config();
      // The simulator and the PKI are loaded when this command runs, not whenever the program starts.
      const { devPkiPaths, ensureDevPki } = require('../pki/devPki') as typeof import('../pki/devPki');
      const env = { ...process.env };
      // Without its own key the sandbox signs with the development PKI of this data directory,
      // so that the service (whose trust root is the same development root) accepts it.
      if (!env.SANDBOX_SIGNING_KEY && !env.SANDBOX_SIGNING_CERT) {
        const pki = devPkiPaths(path.join(c.dataDir, 'pki'));
        ensureDevPki(pki.dir);
        env.SANDBOX_SIGNING_KEY = pki.sandboxKey;
        env.SANDBOX_SIGNING_CERT = pki.sandboxCert;
      }
      const { runSandboxBankProcess } = require('../sandbox-bank/main') as typeof import('../sandbox-bank/main');
      await runSandboxBankProcess(env);
    });
}
