// Ids of webhook endpoints (`whk_`) and deliveries (`dlv_`): the shared generator's time-sortable
// body under this domain's own prefixes, which the shared prefix list does not carry.
import { newId } from '../domain/ids';

const body = () => newId('evt').slice('evt_'.length);

export const webhookIds = {
  endpoint: (): string => `whk_${body()}`,
  delivery: (): string => `dlv_${body()}`,
};
