// Job handlers of the guarantee capability, and its sweeper for messages to issuers.
import { registerSweeper } from '../queue/housekeeping';
import type { HandlerTable } from '../queue/jobs';
import { handleSendJob, sweepIssuerMessages } from './messages';

registerSweeper('issuerMessages', (rt) => sweepIssuerMessages(rt));

export const guaranteeJobHandlers: HandlerTable = {
  'issuer-messages': { send: handleSendJob },
};
