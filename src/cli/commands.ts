// Operator commands beside the processes: the sandbox bank, reconciliation, the demo, the calendar,
// credit grades, users.
import type { Command } from 'commander';
import { loadConfig } from '../config';
import { addSandboxCommand } from './sandboxBank';
import { addReconcileCommand } from './reconcile';
import { addDemoCommand } from './demo';
import { addCalendarCommand } from './calendar';
import { addCreditCommand } from './credit';
import { addUsersCommand } from './users';

export const extraCommands: ((program: Command) => void)[] = [(p) => addSandboxCommand(p, () => loadConfig()), (p) => addReconcileCommand(p, () => loadConfig()), addDemoCommand, (p) => addCalendarCommand(p, () => loadConfig()), (p) => addCreditCommand(p, () => loadConfig()), (p) => addUsersCommand(p, () => loadConfig())];
