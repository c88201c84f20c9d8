import { z } from 'zod';

/** One problem with one field of one event, as the ingest API reports it. */
export const FieldErrorSchema = z.object({ path: z.string(), message: z.string() });

/** The JSON body of every ingest API answer (see lambdas/ingest/responses.ts), read at the client's boundary. */
export const IngestResponseSchema = z.object({
  accepted: z.number().int().nonnegative(),
  rejected: z.array(z.object({ index: z.number().int().nonnegative(), eventId: z.string().optional(), errors: z.array(FieldErrorSchema) })),
  unstored: z.array(z.object({ index: z.number().int().nonnegative(), eventId: z.string(), reason: z.string() })).optional(),
  message: z.string().optional(),
});
export type IngestResponse = z.output<typeof IngestResponseSchema>;

/** What happened to one event a producer sent, at its index in what it sent. */
export const EventResultSchema = z.discriminatedUnion('status', [
  /** Stored (or already stored: sending an event id again is harmless). */
  z.object({ status: z.literal('accepted'), index: z.number().int(), eventId: z.string().optional() }),
  /** Not a valid event: fix it and send it again. */
  z.object({
    status: z.literal('rejected'),
    index: z.number().int(),
    eventId: z.string().optional(),
    errors: z.array(FieldErrorSchema),
  }),
  /** Valid, or not judged, but not stored after every retry: sending it again is safe. */
  z.object({ status: z.literal('unstored'), index: z.number().int(), eventId: z.string().optional(), reason: z.string() }),
]);
export type EventResult = z.output<typeof EventResultSchema>;
export type FieldError = z.output<typeof FieldErrorSchema>;
