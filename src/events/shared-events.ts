import type { Logger } from 'pino';
import type { SharedEventLog } from '../shared-state/shared-state.js';
import type { EventData, EventHub, EventPublisher } from './event-hub.js';

/**
 * Events through the shared Redis Stream (REDIS_URL): the process that ran a command appends its
 * events (once each: a once-key per change), and every process, this one included, reads the
 * stream into its own EventHub, which fans them out to its subscribers and keeps them for
 * Last-Event-ID with the stream's ids. So a client sees every process's events, on any process.
 *
 * Redis down: an event is dropped (a warn line `events.dropped`); streams stay open and follow
 * again once it is back. A client that missed events across the gap still gets `event: reset`
 * only if its Last-Event-ID is older than the buffer, as with one process.
 */
export function sharedEventPublisher(log: SharedEventLog, hub: EventHub, options: { maxLen: number; logger: Logger }): EventPublisher {
  log.follow((id, entry, backlog) => hub.deliver(id, entry.type, JSON.parse(entry.data) as EventData, { quiet: backlog }));
  return {
    publish(type, data, onceKey?: string) {
      log.append({ type, data: JSON.stringify(data) }, { maxLen: options.maxLen, ...(onceKey !== undefined && { onceKey }) }).catch((error: unknown) => {
        options.logger.warn(
          { event: 'events.dropped', type, vm_id: data.id, error: error instanceof Error ? error.message : String(error) },
          'event dropped: the shared stream (Redis) cannot be reached',
        );
      });
    },
  };
}
