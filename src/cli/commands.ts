// Operator commands beside the processes: the sandbox bank, reconciliation, the demo, the calendar.
import type { Command } from 'commander';
import { loadConfig } from '../config';
import { addSandboxCommand } from './sandboxBank';
import { addReconcileCommand } from './reconcile';
import { addDemoCommand } from './demo';
import { addCalendarCommand } from './calendar';

export const extraCommands: ((program: Command) => void)[] = [(p) => addSandboxCommand(p, () => loadConfig()), (p) => addReconcileCommand(p, () => loadConfig()), addDemoCommand, (p) => addCalendarCommand(p, () => loadConfig())];
