import type { NumericPlan, RowDraft } from './matrixBuilder.ts';
import type { MeasureAggregate, StreamAggregate } from './streams.ts';

/**
 * The values of numeric columns on one set of rows, each column computed once and kept.
 *
 * Why: `buildDatasets` reads every candidate column of the training rows four or five times
 * (constant columns, duplicates, separation, correlation, the matrix), and each read of a
 * generated column is a Map lookup per row; on 20,000 customers that re-reading was most of the
 * features pass (issue 15). The values are the `get` of the plan, unchanged, so every consumer
 * sees exactly the numbers it computed before.
 */
export class NumericValues {
  private readonly columns = new Map<NumericPlan, Float64Array>();
  /** Each row's aggregate of a stream (and of a stream's number): one Map lookup per row and stream, not per column. */
  private readonly aggregates = new Map<string, Array<StreamAggregate | undefined>>();
  private readonly measures = new Map<string, Map<string, Array<MeasureAggregate | undefined>>>();

  constructor(readonly rows: readonly RowDraft[]) {}

  /** The column's value in each row, in the order of `rows`. */
  of(plan: NumericPlan): Float64Array {
    let values = this.columns.get(plan);
    if (!values) {
      const { rows } = this;
      values = new Float64Array(rows.length);
      const { stat, column } = plan;
      if (stat && column.generated) {
        // The same call `get` makes (matrixBuilder.ts), with the aggregates looked up once per stream.
        const { stream, measure } = column.generated;
        const aggregates = this.streamAggregates(stream);
        const measures = measure === undefined ? undefined : this.measureAggregates(stream, measure);
        for (let r = 0; r < rows.length; r++)
          values[r] = stat.value(aggregates[r], (rows[r] as RowDraft).cutoffMs, measures === undefined ? undefined : measures[r]);
      } else for (let r = 0; r < rows.length; r++) values[r] = plan.get(rows[r] as RowDraft);
      this.columns.set(plan, values);
    }
    return values;
  }

  private streamAggregates(stream: string): Array<StreamAggregate | undefined> {
    let aggregates = this.aggregates.get(stream);
    if (!aggregates) {
      aggregates = this.rows.map((row) => row.streams.get(stream));
      this.aggregates.set(stream, aggregates);
    }
    return aggregates;
  }

  private measureAggregates(stream: string, measure: string): Array<MeasureAggregate | undefined> {
    let ofStream = this.measures.get(stream);
    if (!ofStream) {
      ofStream = new Map();
      this.measures.set(stream, ofStream);
    }
    let measures = ofStream.get(measure);
    if (!measures) {
      measures = this.streamAggregates(stream).map((aggregate) => aggregate?.measures.get(measure));
      ofStream.set(measure, measures);
    }
    return measures;
  }
}

/** `values` when it holds these rows, else a cache of its own (callers without one still work). */
export const valuesFor = (rows: readonly RowDraft[], values?: NumericValues): NumericValues =>
  values && values.rows === rows ? values : new NumericValues(rows);
