import type { ConsolePage } from '../types';
import { Placeholder } from '../Placeholder';

/** A bidder's pages: its sections and sub-accounts, deposits, guarantees, refunds, vouchers. */
export const bidderPages: ConsolePage[] = [{ path: 'sections', title: ['我的标段', 'My sections'], element: <Placeholder /> }];
