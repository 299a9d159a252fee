import type { ConsolePage } from '../types';
import { Placeholder } from '../Placeholder';

/** The trading centre's pages; the auditor sees the same pages read-only. */
export const centrePages: ConsolePage[] = [{ path: 'dashboard', title: ['工作台', 'Dashboard'], element: <Placeholder /> }];
