// Follows GET /api/v1/events with fetch rather than EventSource: EventSource cannot send the
// Authorization header an API with keys needs. Reconnects with Last-Event-ID, as EventSource would.

import { authHeaders, problemOf } from './api.js';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * handlers: onOpen(), onEvent(type, data), onReset(), onDrop(), onProblem(problem).
 * Stops for good on 401/403 (a key is needed); returns { stop() }.
 */
export function followEvents(handlers) {
  let lastId;
  let retryMs = 2000;
  let stopped = false;
  let controller;

  const handle = (block) => {
    let type = 'message';
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') lastId = value;
      else if (field === 'event') type = value;
      else if (field === 'data') data += data ? `\n${value}` : value;
      else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
    }
    if (!data) return;
    if (type === 'reset') handlers.onReset();
    else handlers.onEvent(type, JSON.parse(data));
  };

  const run = async () => {
    while (!stopped) {
      controller = new AbortController();
      try {
        const headers = { Accept: 'text/event-stream', ...authHeaders() };
        if (lastId !== undefined) headers['Last-Event-ID'] = lastId;
        const response = await fetch('/api/v1/events', { headers, cache: 'no-store', signal: controller.signal });
        if (!response.ok) {
          handlers.onProblem(await problemOf(response));
          if (response.status === 401 || response.status === 403) return;
        } else {
          handlers.onOpen();
          const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
          let pending = '';
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            pending += value.replace(/\r\n?/g, '\n');
            let end;
            while ((end = pending.indexOf('\n\n')) >= 0) {
              handle(pending.slice(0, end));
              pending = pending.slice(end + 2);
            }
          }
        }
      } catch {
        // A dropped connection: reconnect below, unless stopped.
      }
      if (stopped) return;
      handlers.onDrop();
      await sleep(retryMs);
    }
  };
  void run();
  return {
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
