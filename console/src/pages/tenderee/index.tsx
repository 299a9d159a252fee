import type { ConsolePage } from '../types';
import { Placeholder } from '../Placeholder';

/** A tenderee's pages: its sections; bidders only after the opening (R18). */
export const tendereePages: ConsolePage[] = [{ path: 'sections', title: ['我的项目', 'My sections'], element: <Placeholder /> }];
