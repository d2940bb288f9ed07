/**
 * GET /api/status: a JSON snapshot of the status model.
 * GET /api/events: the same snapshot as Server-Sent Events, one message a second.
 * Both sit behind the admin-auth middleware (mounted in app.ts).
 */
import { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import { STATUS_EVENT } from '../status/snapshot.js';
import type { StatusView } from '../status/status-view.js';

export interface StatusRoutesOptions {
  model: StatusView;
  /** How soon a browser's EventSource retries after the stream drops. */
  retryMs?: number;
}

const DEFAULT_RETRY_MS = 1_000;
const NO_STORE = { 'Cache-Control': 'no-store' };
/** What streamSSE answers with, for a HEAD that gets no stream. */
const SSE_HEADERS = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' };

export function statusRoutes(options: StatusRoutesOptions): Hono {
  const { model, retryMs = DEFAULT_RETRY_MS } = options;
  const app = new Hono();

  app.get('/status', async (c) => c.json(await model.snapshot(), 200, NO_STORE));

  app.get('/events', (c) => {
    c.header('X-Accel-Buffering', 'no'); // a reverse proxy must not hold the stream back
    // Hono answers HEAD with this GET handler and drops the body unread and unaborted: a stream
    // started for it would hold its tick listener for good. So HEAD gets the headers alone.
    if (c.req.method === 'HEAD') return c.body(null, 200, SSE_HEADERS);
    return streamSSE(c, async (stream) => {
      let sequence = 0;
      let writing = false;
      // One snapshot a second for every client, serialized once by the model. A client still
      // busy with the last one skips this one: a slow reader never makes the relay buffer.
      const send = async (data: string): Promise<void> => {
        if (writing || stream.aborted) return;
        writing = true;
        try {
          await stream.writeSSE({ event: STATUS_EVENT, id: String(++sequence), data });
        } finally {
          writing = false;
        }
      };
      const onTick = (): void => void send(model.tickJson()).catch(() => stream.abort());
      await stream.writeSSE({ event: STATUS_EVENT, id: String(++sequence), data: JSON.stringify(await model.snapshot()), retry: retryMs });
      let stop!: () => void;
      const ended = new Promise<void>((resolve) => (stop = resolve));
      stream.onAbort(stop);
      model.on('tick', onTick);
      model.on('close', stop);
      if (stream.aborted) stop();
      try {
        await ended;
      } finally {
        model.off('tick', onTick);
        model.off('close', stop);
      }
    });
  });

  return app;
}
