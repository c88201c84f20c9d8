import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { BaseEnv, parseEnv } from '../../adapters/aws/env.ts';
import { S3RunStore } from '../../adapters/aws/runStore.ts';
import { reportOfRun } from '../../app/report.ts';
import { renderReport } from '../../model/report/index.ts';
import type { RunSummary } from '../../model/runSummary.ts';
import { dataDirOption, jsonOption, withLocalStack } from '../options.ts';

export interface WrittenReport {
  runId: string;
  path: string;
  bytes: number;
}

/** Writes a report's HTML to a file (creating its folder). */
export async function writeReportFile(summary: RunSummary, out: string, html = renderReport(summary)): Promise<WrittenReport> {
  const file = path.resolve(out);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, html);
  return { runId: summary.runId, path: file, bytes: Buffer.byteLength(html) };
}

/** Reads a run's summary from the bucket (latest run by default) and writes its report. Needs the AWS env set (local stack or AWS). */
export async function writeRunReport(out: string, runId?: string): Promise<WrittenReport> {
  const { BUCKET_NAME } = parseEnv(BaseEnv, process.env);
  const { summary, html } = await reportOfRun(new S3RunStore(createAwsClients().s3, BUCKET_NAME), runId);
  return writeReportFile(summary, out, html);
}

export function register(program: Command): void {
  program
    .command('report')
    .description('write the HTML report of a run (charts, headline numbers, customers most at risk)')
    .option('--run <runId>', 'run to report (default: the latest run)')
    .option('--out <file>', 'HTML file to write', 'report.html')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action(async (opts: { run?: string; out: string; dataDir: string; json?: boolean }) => {
      const written = await withLocalStack(opts.dataDir, () => writeRunReport(opts.out, opts.run));
      if (opts.json) console.log(JSON.stringify(written));
      else console.log(`report of run ${written.runId}: ${written.path} (${Math.round(written.bytes / 1024)} KB, opens offline)`);
    });
}
