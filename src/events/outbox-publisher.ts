// The EventPublisher the rest of refdata uses: it writes the event to the outbox; the relay publishes it from there.
import type { OutboxStore } from '../db/outbox';
import type { EventPublisher, PublishedEvent } from './types';

/**
 * `publish` resolves once the event is stored, not once Kafka has it: that is what lets a Kafka outage delay
 * events without losing them. Publishing the same eventId twice stores it once. `onEnqueued` wakes the relay
 * in this process so the event leaves at once instead of at the next poll.
 */
export function createOutboxPublisher(outbox: Pick<OutboxStore, 'enqueue'>, opts: { onEnqueued?: () => void } = {}): EventPublisher {
  return {
    async publish(event: PublishedEvent) {
      const stored = await outbox.enqueue(event);
      if (stored) opts.onEnqueued?.();
    },
  };
}
