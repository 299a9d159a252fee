// Job handlers of the guarantee capability, and its sweepers: messages to issuers, expiry.
import type { HandlerTable, Sweeper } from '../queue/handlers';
import { handleSendJob, sweepIssuerMessages } from './messages';
import { expireGuarantees } from './expiry';

export const guaranteeSweepers: Sweeper[] = [
  { name: 'issuerMessages', run: (rt) => sweepIssuerMessages(rt) },
  { name: 'guaranteesExpired', run: (rt) => expireGuarantees(rt) },
];

export const guaranteeJobHandlers: HandlerTable = {
  'issuer-messages': { send: handleSendJob },
};
