// The sandbox bank: the project's own bank simulator (DESIGN.md "Banks"). Start it in-process
// with startSandboxBank(config) or as a process with `bidbond sandbox-bank` / main.ts, both
// configured by sandboxConfigFromEnv(process.env).
export { startSandboxBank, type SandboxBank } from './server';
export { sandboxConfigFromEnv, normalizeSandboxConfig, SandboxConfigError, type SandboxConfig, type SandboxConfigInput } from './config';
export { parseFaultSettings, noFaults, type FaultSettings } from './faults';
export { reasonCodes } from './errors';
