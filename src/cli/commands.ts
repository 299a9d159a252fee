// Operator commands contributed by the domains (sandbox bank, reconciliation, vouchers, demo).
import type { Command } from 'commander';
import { loadConfig } from '../config';
import { addSandboxCommand } from './sandbox';
import { addReconcileCommand } from '../reconciliation/cli';
import { addDemoCommand } from '../demo';

export const extraCommands: ((program: Command) => void)[] = [(p) => addSandboxCommand(p, () => loadConfig()), (p) => addReconcileCommand(p, () => loadConfig()), addDemoCommand];
