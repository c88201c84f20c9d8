import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { RunStore, ScoreRow } from '../../app/ports.ts';
import type { FeatureDistribution } from '../../model/monitoring/drift.ts';
import { RunSummary } from '../../model/runSummary.ts';

/** The stored training distribution, checked when read back. */
export const StoredFeatureDistribution = z.object({
  columns: z.array(
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('numeric'), name: z.string(), cuts: z.array(z.number()), shares: z.array(z.number()) }),
      z.object({ kind: z.literal('categorical'), name: z.string(), categories: z.array(z.string()), shares: z.array(z.number()) }),
    ]),
  ),
});

export const runPrefix = (runId: string) => `runs/${runId}/`;
/**
 * Beside the model's own artifacts (the job may write only under models/ and runs/): the feature
 * distribution of the model's training matrix, for drift checks in later score-only runs.
 */
export const trainingDistributionKey = (modelVersion: string) => `models/${modelVersion}/training-distribution.json`;

const SUMMARY_KEY = /^runs\/([^/]+)\/summary\.json$/;

const isMissing = (error: unknown): boolean =>
  error instanceof NoSuchKey || ['NoSuchKey', 'NotFound'].includes((error as { name?: string } | null)?.name ?? '');

export class S3RunStore implements RunStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async putSummary(summary: RunSummary, part?: string): Promise<string> {
    const key = `${runPrefix(summary.runId)}${part ? `${part}/` : ''}summary.json`;
    await this.#put(key, JSON.stringify(RunSummary.parse(summary), null, 2), 'application/json');
    return key;
  }

  async getSummary(runId: string): Promise<RunSummary | undefined> {
    const text = await this.#get(`${runPrefix(runId)}summary.json`);
    return text === undefined ? undefined : RunSummary.parse(JSON.parse(text));
  }

  async putScores(runId: string, rows: readonly object[], part?: string): Promise<string> {
    const key = `${runPrefix(runId)}${part ? `scores-${part}` : 'scores'}.ndjson`;
    await this.#put(key, rows.map((row) => JSON.stringify(row)).join('\n') + (rows.length ? '\n' : ''), 'application/x-ndjson');
    return key;
  }

  async putTrainingDistribution(modelVersion: string, distribution: FeatureDistribution): Promise<void> {
    await this.#put(trainingDistributionKey(modelVersion), JSON.stringify(distribution), 'application/json');
  }

  async getTrainingDistribution(modelVersion: string): Promise<FeatureDistribution | undefined> {
    const text = await this.#get(trainingDistributionKey(modelVersion));
    if (text === undefined) return undefined;
    const parsed = StoredFeatureDistribution.safeParse(JSON.parse(text));
    if (!parsed.success)
      throw new Error(
        `${trainingDistributionKey(modelVersion)} is not a feature distribution: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      );
    return parsed.data satisfies FeatureDistribution;
  }

  /** The run whose `runs/<runId>/summary.json` was written last (ties: the greater run id). */
  async latestRunId(): Promise<string | undefined> {
    let latest: { runId: string; at: number } | undefined;
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: 'runs/', ContinuationToken: token }));
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

  async getScores(key: string): Promise<ScoreRow[]> {
    const text = (await this.#get(key)) ?? '';
    return text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line, i) => {
        try {
          return JSON.parse(line) as ScoreRow;
        } catch (error) {
          throw new Error(`s3://${this.bucket}/${key} line ${i + 1} is not JSON: ${(error as Error).message}`);
        }
      });
  }

  async #put(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async #get(key: string): Promise<string | undefined> {
    try {
      const result = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await result.Body?.transformToString('utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }
}
