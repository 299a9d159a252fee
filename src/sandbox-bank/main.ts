// Runs the sandbox bank as its own process, configured by the environment; stops cleanly on
// SIGTERM/SIGINT so that a fault campaign can kill and restart it.
import { sandboxConfigFromEnv } from './config';
import { startSandboxBank } from './server';

export async function runSandboxBankProcess(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const bank = await startSandboxBank(sandboxConfigFromEnv(env));
  console.log(`sandbox bank listening on ${bank.url} (protocol ${bank.config.protocol}, schema ${bank.config.schema})`);
  const stop = (signal: string) => {
    console.log(`sandbox bank: ${signal}, closing`);
    bank.close().then(
      () => process.exit(0),
      (e) => {
        console.error(e);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

if (require.main === module) {
  runSandboxBankProcess().catch((e) => {
    console.error(`sandbox bank failed to start: ${(e as Error).message}`);
    process.exit(1);
  });
}
