// Job handlers of the guarantee capability, and its sweepers: messages to issuers, expiry.
import { registerSweeper } from '../queue/housekeeping';
import type { HandlerTable } from '../queue/jobs';
import { handleSendJob, sweepIssuerMessages } from './messages';
import { expireGuarantees } from './expiry';

registerSweeper('issuerMessages', (rt) => sweepIssuerMessages(rt));
registerSweeper('guaranteesExpired', (rt) => expireGuarantees(rt));

export const guaranteeJobHandlers: HandlerTable = {
  'issuer-messages': { send: handleSendJob },
};
