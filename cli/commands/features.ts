import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import { z } from 'zod';
import { featuresAt } from '../../app/featuresAt.ts';
import { formatChurnDefinition } from '../../model/features/churnDefinition.ts';
import { matrixCsvHeader, matrixToCsvRows } from '../../model/features/exportCsv.ts';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import { parseOptions } from '../../model/validation.ts';
import { withLocalJob } from '../localJob.ts';
import { PointInTimeFlags, pointInTimeOverrides, withPointInTimeOptions } from '../options.ts';

const FeaturesCliOptions = PointInTimeFlags.extend({ out: z.string().optional() });

async function writeCsv(matrix: FeatureMatrix, stream: Writable): Promise<void> {
  const write = async (line: string) => {
    if (!stream.write(`${line}\n`)) await once(stream, 'drain');
  };
  await write(matrixCsvHeader(matrix));
  for (const row of matrixToCsvRows(matrix)) await write(row);
}

/** Rows as objects, for `--json` without `--out`. */
function matrixRows(m: FeatureMatrix): Array<Record<string, string | number | null>> {
  const nNum = m.numericColumns.length;
  const nCat = m.categoricalColumns.length;
  return m.customerIds.map((customerId, r) => {
    const row: Record<string, string | number | null> = { customerId };
    m.numericColumns.forEach((c, i) => {
      const v = m.numeric[r * nNum + i] as number;
      row[c.name] = Number.isNaN(v) ? null : v;
    });
    m.categoricalColumns.forEach((c, i) => {
      const code = m.categorical[r * nCat + i] as number;
      row[c.name] = code < 0 ? null : (c.categories[code] ?? null);
    });
    row.label = (m.labels[r] as number) < 0 ? null : (m.labels[r] as number);
    return row;
  });
}

async function exportFeatures(raw: unknown): Promise<void> {
  const o = parseOptions(FeaturesCliOptions, raw, 'options');
  const started = performance.now();
  const { cutoff, matrix, horizonDays, churn } = await withLocalJob(o.dataDir, pointInTimeOverrides(o), async (deps) => {
    const { asOf, matrix } = await featuresAt({ asOf: o.asOf }, deps);
    return { cutoff: asOf, matrix, horizonDays: deps.config.horizonDays, churn: deps.config.churn };
  });
  const labels = { churned: 0, stayed: 0, unknown: 0 };
  for (const l of matrix.labels) {
    if (l === 1) labels.churned++;
    else if (l === 0) labels.stayed++;
    else labels.unknown++;
  }
  const summary = {
    cutoff,
    horizonDays,
    churn: formatChurnDefinition(churn),
    rows: matrix.customerIds.length,
    columns: [...matrix.numericColumns, ...matrix.categoricalColumns].map((c) => ({
      name: c.name,
      kind: c.kind,
      family: c.family,
      description: c.description,
    })),
    labels,
    seconds: Math.round(performance.now() - started) / 1000,
    out: o.out ?? null,
  };
  if (o.out) {
    const stream = createWriteStream(o.out);
    await writeCsv(matrix, stream);
    stream.end();
    await once(stream, 'finish');
  }
  if (o.json) {
    console.log(JSON.stringify(o.out ? summary : { ...summary, data: matrixRows(matrix) }, null, 2));
    return;
  }
  if (!o.out) {
    // `churnguard features ... | head` closes the pipe early: that is the reader's choice, not an error.
    process.stdout.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(0);
      throw error;
    });
    await writeCsv(matrix, process.stdout);
    console.error(`features: ${summary.rows} customers active at ${cutoff}`);
    return;
  }
  console.log(`${summary.rows} customers active at ${cutoff}, ${summary.columns.length} features → ${o.out}`);
  console.log(
    `labels (churn ${summary.churn} within ${horizonDays} days): ${labels.churned} churned, ${labels.stayed} stayed, ${labels.unknown} not yet known`,
  );
}

/** `churnguard features --as-of DATE`: export the feature matrix at a cutoff. */
export function register(program: Command): void {
  const command = program
    .command('features')
    .description("export every active customer's features at a cutoff (CSV: customerId, features, mrrCents, label when known)")
    .option('--out <file>', 'write the CSV here (default: stdout)');
  withPointInTimeOptions(command, { asOf: 'the cutoff: features use only events before it' }).action((options: unknown) =>
    exportFeatures(options),
  );
}
