/** DynamoDB's smallest non-zero number magnitude: anything smaller is rejected ("Number underflow"). */
const DYNAMO_MIN_MAGNITUDE = 1e-130;

/**
 * A number DynamoDB accepts: magnitudes below 1e-130 (a risk of sigmoid(−300), a driver's
 * contribution of 1e-200) become 0, which they are at any precision anyone reads.
 */
export function storableNumber(value: number): number {
  return Math.abs(value) < DYNAMO_MIN_MAGNITUDE ? 0 : value;
}
