/** Where a training run's time went, in milliseconds (wall clock). */
export interface TrainingTimings {
  /** Waiting for customer histories from the events table. */
  scanMs: number;
  /** Building the datasets from them (the rest of the features pass). */
  featuresMs: number;
  /** Fitting preprocessing and weights (MLP and baseline). */
  fitMs: number;
  /** Calibration, thresholds and validation metrics. */
  calibrationMs: number;
  /** Storing the models, the decision and the training distribution. */
  registryMs: number;
}

/**
 * Passes a stream through while adding to `waited.ms` the time spent waiting for each item: the
 * consumer's view of how long the source (a Scan) kept it waiting.
 */
export async function* timedStream<T>(source: AsyncIterable<T>, waited: { ms: number }): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const started = performance.now();
      const next = await iterator.next();
      waited.ms += performance.now() - started;
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}
