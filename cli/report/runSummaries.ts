import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { S3RunStore } from '../../adapters/aws/runStore.ts';
import type { RunSummary } from '../../model/runSummary.ts';

const SUMMARY_KEY = /^runs\/([^/]+)\/summary\.json$/;

/**
 * The run whose `runs/<runId>/summary.json` was written last (ties: the greater run id), or
 * undefined when no run has finished. Part summaries of segment workers are not runs.
 */
export async function findLatestRunId(s3: S3Client, bucket: string): Promise<string | undefined> {
  let latest: { runId: string; at: number } | undefined;
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'runs/', ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const runId = SUMMARY_KEY.exec(object.Key ?? '')?.[1];
      if (runId === undefined) continue;
      const at = object.LastModified?.getTime() ?? 0;
      if (!latest || at > latest.at || (at === latest.at && runId > latest.runId)) latest = { runId, at };
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return latest?.runId;
}

/** Reads and validates a run's summary; the latest run's when `runId` is not given. Throws a clear error when absent. */
export async function loadRunSummary(s3: S3Client, bucket: string, runId?: string): Promise<RunSummary> {
  const id = runId ?? (await findLatestRunId(s3, bucket));
  if (id === undefined) throw new Error(`no run summary found under s3://${bucket}/runs/: run the job first (churnguard run)`);
  const summary = await new S3RunStore(s3, bucket).getSummary(id);
  if (!summary) throw new Error(`run "${id}" has no summary at s3://${bucket}/runs/${id}/summary.json`);
  return summary;
}

/** One line of `runs/<runId>/scores.ndjson`, the fields the demo reads. */
export interface ScoreRow {
  customerId: string;
  risk: number;
  band: 'high' | 'medium' | 'low';
  playbook: string;
}

/** Reads a scores snapshot written by the job (one JSON object per line). */
export async function loadScores(s3: S3Client, bucket: string, key: string): Promise<ScoreRow[]> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = (await object.Body?.transformToString('utf8')) ?? '';
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line, i) => {
      try {
        return JSON.parse(line) as ScoreRow;
      } catch (error) {
        throw new Error(`s3://${bucket}/${key} line ${i + 1} is not JSON: ${(error as Error).message}`);
      }
    });
}
