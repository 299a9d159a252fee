// Events, endpoints and deliveries as the API (and each delivery's body) shows them.
import type { AttemptRow, DeliveryRow, EndpointRow, EventRow } from './repo';

export function presentEvent(e: EventRow) {
  return {
    object: 'event' as const,
    id: e.id,
    type: e.type,
    occurredAt: e.occurred_at.toISOString(),
    subject: e.subject_type && e.subject_id ? { type: e.subject_type, id: e.subject_id } : null,
    sectionId: e.section_id,
    tendereeId: e.tenderee_id,
    bidderId: e.bidder_id,
    issuerId: e.issuer_id,
    bankId: e.bank_id,
    data: e.data,
  };
}

export function presentEndpoint(w: EndpointRow) {
  return {
    object: 'webhook_endpoint' as const,
    id: w.id,
    url: w.url,
    events: w.event_types,
    status: w.status,
    description: w.description,
    createdAt: w.created_at.toISOString(),
    failingSince: w.failing_since?.toISOString() ?? null,
    disabledAt: w.disabled_at?.toISOString() ?? null,
    disabledReason: w.disabled_reason,
  };
}

export function presentDelivery(d: DeliveryRow, event: Pick<EventRow, 'type'> | undefined, attempts: AttemptRow[]) {
  return {
    object: 'webhook_delivery' as const,
    id: d.id,
    endpointId: d.endpoint_id,
    eventId: d.event_id,
    eventType: event?.type ?? null,
    status: d.status,
    attemptCount: d.attempts,
    createdAt: d.created_at.toISOString(),
    nextAttemptAt: d.status === 'pending' ? d.next_attempt_at.toISOString() : null,
    deliveredAt: d.delivered_at?.toISOString() ?? null,
    lastError: d.last_error,
    attempts: attempts.map((a) => ({
      attempt: a.attempt,
      startedAt: a.started_at.toISOString(),
      durationMs: a.duration_ms,
      httpStatus: a.http_status,
      error: a.error,
      redelivery: a.redelivery,
    })),
  };
}
