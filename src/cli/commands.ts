// Operator commands contributed by the domains (sandbox bank, reconciliation, vouchers, demo).
import type { Command } from 'commander';

export const extraCommands: ((program: Command) => void)[] = [];
