/**
 * Limits of the public event contract. They are part of the API: changing one is a contract
 * change, and every violation is reported with the event index, the field and the rule.
 */
export const EVENT_LIMITS = {
  /** Events accepted in one ingest request. */
  maxEventsPerRequest: 500,
  /** Bytes of one ingest request body (1 MiB). */
  maxRequestBytes: 1024 * 1024,
  /** Bytes of one serialised event; DynamoDB items may hold 400 KB, we keep a wide margin. */
  maxEventBytes: 16 * 1024,
  /** Length of `eventId` and `customerId`. */
  maxIdLength: 128,
  /** Length of short names: features, plans, reasons, custom event names, attribute keys. */
  maxNameLength: 128,
  /** Length of free-text strings (survey comments, attribute values). */
  maxTextLength: 1024,
  /** Attributes in one `customer_profile` event. */
  maxProfileAttributes: 200,
  /** Named numbers (`measures`) of one event. */
  maxMeasures: 20,
  /** Earliest accepted `occurredAt` (inclusive). */
  minTimestamp: '2000-01-01T00:00:00.000Z',
  /** Latest accepted `occurredAt` (exclusive). */
  maxTimestamp: '2100-01-01T00:00:00.000Z',
  /** Largest quantity or amount: beyond this a value is a unit mistake, not usage. */
  maxQuantity: 1e9,
} as const;

/** Characters allowed in ids: they become parts of DynamoDB keys, where `#` is the separator. */
export const ID_PATTERN = /^[A-Za-z0-9._:@-]+$/;

/** Characters allowed in names (features, plans, attributes): readable identifiers. */
export const NAME_PATTERN = /^[A-Za-z0-9._:\-/ ]+$/;
