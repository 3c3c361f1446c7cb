import type { Logger } from 'pino';
import { ApiError } from '../../domain/errors.js';
import { scopeSees } from '../../domain/tenancy.js';
import type { EventHub, HubEvent } from '../../events/event-hub.js';
import { eventResources, eventTypes } from '../../events/resource-events.js';
import type { EndpointRouter } from '../endpoint.js';
import { z } from '../openapi/zod.js';
import { requestContext } from '../request-context.js';

export interface EventStreamOptions {
  /** A comment line at least this often keeps proxies from closing an idle stream. */
  heartbeatMs: number;
  /**
   * A subscriber whose unsent bytes (what its socket has not taken yet) pass this is cut: a
   * client that stops reading must not make the server hold its events without bound. It
   * reconnects with Last-Event-ID and gets the replay, or a reset.
   */
  maxBufferedBytes: number;
  /** Aborted on shutdown: every stream ends cleanly, so the server can close. */
  shutdownSignal: AbortSignal;
  logger: Logger;
}

/** Comma-separated values, each one of `allowed`; absent: all. */
const listOf = <T extends string>(allowed: readonly [T, ...T[]], example: string) =>
  z
    .string()
    .transform((v) => v.split(',').map((s) => s.trim()).filter((s) => s.length > 0))
    .pipe(z.array(z.enum(allowed)))
    .optional()
    .openapi({ description: `Comma-separated; absent: all. One or more of ${allowed.join(', ')}.`, example });

const EventsQuery = z.strictObject({
  resource: listOf([...eventResources], 'vm'),
  type: listOf([...eventTypes], 'vm.settled,vm.deleted'),
  id: z.string().min(1).max(255).optional().openapi({ description: 'Only the events of this resource.', example: '2f1c7d2e-8a43-4d0f-9a5e-6f1b0c9d7e21' }),
});

const EventsHeaders = z.object({
  'Last-Event-ID': z
    .string()
    .optional()
    .openapi({ description: 'The last event id seen: the stream starts with what was missed since (or `event: reset`).', example: '42' }),
});

const EventDataSchema = z
  .object({
    resource: z.enum(eventResources),
    id: z.string(),
    status: z.string(),
    previous_status: z.string().nullable(),
    task: z.string().nullable(),
    at: z.string(),
    request_id: z.string().nullable(),
    tenant: z.string().nullable(),
  })
  .openapi('EventData', {
    description:
      'The `data:` line of each event (JSON). The stream is text/event-stream: `id:` (monotonic), `event:` (vm.created, vm.settled, vm.deleted, volume.created, volume.settled, volume.deleted, or reset), `data:`.',
  });

const RETRY_MS = 2000;

export function eventRoutes(api: EndpointRouter, hub: EventHub, options: EventStreamOptions): void {
  // One listener on the shutdown signal for all streams (not one each: a thousand would be a leak warning).
  const openStreams = new Set<() => void>();
  const endAll = () => {
    for (const endStream of [...openStreams]) endStream();
  };
  options.shutdownSignal.addEventListener('abort', endAll, { once: true });

  api.add({
    method: 'get',
    path: '/events',
    operationId: 'streamEvents',
    summary: 'Follow VM and volume creates, settles and deletes (Server-Sent Events)',
    description: [
      'A text/event-stream of `vm.created`, `vm.settled` and `vm.deleted` (and the same three of `volume`), each with a monotonic `id`.',
      'Reconnect with `Last-Event-ID` to get what was missed from a bounded buffer; when the gap is older than the buffer (or the server restarted),',
      'the stream starts with `event: reset`: list the VMs (and volumes) again, then follow. A comment line comes at least every heartbeat.',
      'A client that stops reading is disconnected once the server holds too much unsent data for it.',
    ].join(' '),
    tag: 'Events',
    query: EventsQuery,
    headers: EventsHeaders,
    responses: { 200: { description: 'The event stream (never ends by itself; ends cleanly on server shutdown).', schema: EventDataSchema, mediaType: 'text/event-stream' } },
    problems: [],
    handler: async ({ query, scope }, req, res) => {
      const lastEventId = lastEventIdOf(req.get('last-event-id'));
      const types = query.type && new Set<string>(query.type);
      const wanted = (event: HubEvent) =>
        // The caller's tenant (an admin: all). Resources have no owner yet (tenant null): everyone sees them.
        (event.data.tenant === null || scopeSees(scope, event.data.tenant)) &&
        (types === undefined || types.has(event.type)) &&
        (query.resource === undefined || query.resource.includes(event.data.resource)) &&
        (query.id === undefined || query.id === event.data.id);

      res.writeHead(200, {
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        // nginx buffers responses unless told not to.
        'X-Accel-Buffering': 'no',
      });
      let open = true;
      const send = (text: string | Buffer) => {
        if (!open) return;
        res.write(text);
        if (res.writableLength > options.maxBufferedBytes) {
          options.logger.warn(
            { event: 'events.subscriber_cut', request_id: requestContext(res).requestId, buffered_bytes: res.writableLength },
            'event stream cut: the client is not reading',
          );
          end();
          res.destroy();
        }
      };
      const listener = (event: HubEvent) => {
        if (wanted(event)) send(event.frame);
      };
      const { backlog, unsubscribe } = hub.subscribe(listener, lastEventId);
      const heartbeat = setInterval(() => send(': heartbeat\n\n'), options.heartbeatMs);
      heartbeat.unref();
      const onShutdown = () => {
        send(': server shutting down\n\n');
        end();
        res.end();
      };
      function end(): void {
        if (!open) return;
        open = false;
        unsubscribe();
        clearInterval(heartbeat);
        openStreams.delete(onShutdown);
      }
      res.once('close', end);
      openStreams.add(onShutdown);

      send(`retry: ${RETRY_MS}\n\n`);
      if (backlog.kind === 'reset') {
        send(`id: ${backlog.lastId}\nevent: reset\ndata: ${JSON.stringify({ reason: 'Last-Event-ID is older than the replay buffer; list again, then follow' })}\n\n`);
      } else {
        for (const event of backlog.events) if (wanted(event)) send(event.frame);
      }
      if (options.shutdownSignal.aborted) onShutdown();
    },
  });
}

function lastEventIdOf(header: string | undefined): number | string | undefined {
  if (header === undefined || header === '') return undefined;
  // With REDIS_URL, ids are the shared stream's (`<ms>-<n>`).
  if (/^\d{1,15}-\d{1,15}$/.test(header)) return header;
  if (!/^\d{1,15}$/.test(header)) {
    throw new ApiError('VALIDATION_ERROR', 'Last-Event-ID must be an event id this stream sent (a whole number, or <ms>-<n> with REDIS_URL)', {
      errors: [{ path: 'header.Last-Event-ID', message: 'a whole number, or <ms>-<n>' }],
    });
  }
  return Number(header);
}
