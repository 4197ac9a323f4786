// Live notifications as Server-Sent Events: every appended entry and every signed checkpoint,
// fed from the in-process bus after the commit. An organization watches the events appearing
// in its name (`?emitter=`), so a stolen key is noticed; a monitor follows checkpoints.
// Bounded: a limited number of streams, and a reader that falls behind is disconnected
// rather than buffered without end (it reconnects and catches up from /v1/entries).
import { SUBJECTS, type Bus, type Subscription } from '@civic-ledger/bus';
import type { AppendedEntry } from '@civic-ledger/ledger-core';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError } from './errors.ts';
import { errorResponses } from './schemas.ts';

export interface NotificationOptions {
  bus: Bus;
  /** Subjects of appended entries and checkpoints (default SUBJECTS). */
  subjects?: { appended: string; checkpoint: string };
  /** Most open streams (default 64). */
  maxStreams?: number;
  /** Bytes a stream may have unsent before the reader is dropped as too slow (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Comment line sent this often so proxies keep the stream open (default 15 s). */
  heartbeatMs?: number;
}

const TYPES = ['appended', 'checkpoint'] as const;

export const notificationsQuery = z.object({
  types: z
    .string()
    .regex(/^(appended|checkpoint)(,(appended|checkpoint))*$/, 'a comma list of appended, checkpoint')
    .optional()
    .describe('What to send (default: appended,checkpoint)'),
  emitter: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'an organization id')
    .optional()
    .describe('Only entries emitted in the name of this organization'),
});

/** Registers GET /v1/notifications; returns a function that ends every open stream (shutdown). */
export function registerNotifications(app: FastifyInstance, options: NotificationOptions): () => void {
  const maxStreams = options.maxStreams ?? 64;
  const maxBuffered = options.maxBufferedBytes ?? 1024 * 1024;
  const heartbeatMs = options.heartbeatMs ?? 15_000;
  const open = new Set<() => void>();

  app.withTypeProvider<ZodTypeProvider>().get(
    '/v1/notifications',
    {
      schema: {
        summary: 'Live notifications (Server-Sent Events): appended entries and signed checkpoints',
        description:
          'A text/event-stream. `event: appended` with `id: <ledger index>` and data ' +
          '{ index, eventHash, leafHash, admitted, emitter, stream, seq, type }; `event: checkpoint` ' +
          'with data { size, note }. Sent after the commit. A reader that falls behind is ' +
          'disconnected; catch up from /v1/entries.',
        tags: ['notifications'],
        querystring: notificationsQuery,
        produces: ['text/event-stream'],
        response: { 200: z.string().describe('text/event-stream'), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (open.size >= maxStreams) {
        throw new ApiError('OVERLOADED', `too many notification streams open (${maxStreams})`, {
          maxStreams,
        });
      }
      const wanted = new Set(request.query.types?.split(',') ?? TYPES);
      const emitter = request.query.emitter;
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-request-id': request.id,
        'x-accel-buffering': 'no',
      });
      res.write(': civic-ledger notifications\n\n');
      const subs: Subscription[] = [];
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        open.delete(end);
        for (const s of subs) void s.close();
        res.end();
      };
      const send = (event: string, id: string | undefined, data: string) => {
        if (ended) return;
        if (res.writableLength > maxBuffered) {
          request.log.info({ emitter }, 'notification reader too slow: disconnected');
          end();
          return;
        }
        res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`);
      };
      const heartbeat = setInterval(() => !ended && res.write(': keep-alive\n\n'), heartbeatMs);
      heartbeat.unref();
      open.add(end);
      res.on('close', end);
      const decoder = new TextDecoder();
      if (wanted.has('appended')) {
        subs.push(
          await options.bus.subscribe(options.subjects?.appended ?? SUBJECTS.appended, async (m) => {
            if (emitter !== undefined && m.headers['emitter'] !== emitter) return;
            send('appended', m.headers['index'], decoder.decode(m.data));
          }),
        );
      }
      if (wanted.has('checkpoint')) {
        subs.push(
          await options.bus.subscribe(options.subjects?.checkpoint ?? SUBJECTS.checkpoint, async (m) =>
            send('checkpoint', undefined, decoder.decode(m.data)),
          ),
        );
      }
      if (ended) for (const s of subs) void s.close();
    },
  );

  return () => {
    for (const end of [...open]) end();
  };
}

/** Publishes what the ledger appended and signed on the bus (after the commit). */
export function ledgerPublishers(
  bus: Bus,
  subjects: { appended: string; checkpoint: string } = SUBJECTS,
): {
  onAppended: (entries: readonly AppendedEntry[]) => void;
  onCheckpoint: (cp: { size: number; note: string }) => void;
} {
  const encoder = new TextEncoder();
  return {
    onAppended: (entries) => {
      for (const e of entries) {
        // The notification names the entry; the event itself is read from the ledger.
        const { index, eventHash, leafHash, admitted, emitter, stream, seq, type } = e;
        const note = { index, eventHash, leafHash, admitted, emitter, stream, seq, type };
        void bus
          .publish(subjects.appended, encoder.encode(JSON.stringify(note)), {
            key: `${e.emitter}/${e.stream}`,
            // Readers filter on headers without parsing every message.
            headers: { index: String(e.index), emitter: e.emitter },
          })
          .catch(() => undefined);
      }
    },
    onCheckpoint: (cp) => {
      void bus.publish(subjects.checkpoint, encoder.encode(JSON.stringify(cp))).catch(() => undefined);
    },
  };
}
