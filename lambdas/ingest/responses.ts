import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { IngestOutcome } from '../../model/events/ingest.ts';
import type { EventRejection } from '../../model/events/validate.ts';

/** The JSON body of every ingest answer. */
export interface IngestResponseBody {
  accepted: number;
  rejected: EventRejection[];
  /** Valid events that were not stored (only with status 503). Re-sending the batch is safe. */
  unstored?: IngestOutcome['unstored'];
  /** Why the request was refused or only partly done. */
  message?: string;
}

const json = (statusCode: number, body: IngestResponseBody, headers: Record<string, string> = {}): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

/** A request refused as a whole (400, 413, 415): nothing was stored. */
export const refusal = (status: 400 | 405 | 413 | 415 | 500, message: string) => json(status, { accepted: 0, rejected: [], message });

/**
 * Maps an ingest outcome to its HTTP answer: 200 all accepted; 207 some rejected; 400 nothing
 * valid; 503 when valid events could not be stored, naming them, with `accepted` counting only
 * what is stored. Never claims accepted what was not written.
 */
export function outcomeResponse(outcome: IngestOutcome): APIGatewayProxyStructuredResultV2 {
  const { accepted, rejected, unstored } = outcome;
  if (unstored.length > 0) {
    return json(
      503,
      {
        accepted,
        rejected,
        unstored,
        message: `${unstored.length} valid event(s) could not be stored, ${accepted} were; re-send the unstored ones (re-sending stored events is harmless)`,
      },
      { 'retry-after': '1' },
    );
  }
  if (accepted === 0) return json(400, { accepted, rejected, message: 'no event in the body is valid' });
  if (rejected.length > 0) return json(207, { accepted, rejected });
  return json(200, { accepted, rejected });
}
