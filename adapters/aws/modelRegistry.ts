import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { ModelListing, ModelRegistry, PromotionDecision, RegistrationContext } from '../../app/ports.ts';
import { ModelIntegrityError } from '../../model/nn/artifacts.ts';
import { ChurnModel, type ModelArtifacts } from '../../model/nn/churnModel.ts';
import { MODEL_VERSION_PATTERN, StoredModelMetadata, TrainingWindow } from '../../model/nn/metadata.ts';
import { ModelMetrics } from '../../model/nn/metricSchemas.ts';
import type { TrainResult } from '../../model/nn/trainChurnModel.ts';
import { decidePromotion } from '../../model/registry/promotion.ts';
import { formatIssues } from '../../model/validation.ts';

const VERSION = MODEL_VERSION_PATTERN;
const ChampionPointer = z.object({ version: z.string().regex(VERSION), promotedAt: z.string(), reason: z.string() });
const Decision = z.object({ version: z.string(), promoted: z.boolean(), reason: z.string(), decidedAt: z.string() });

/** The part of metadata.json a listing shows. */
const ListedMetadata = z.object({
  createdAt: z.string(),
  metrics: ModelMetrics,
  architecture: z.object({ kind: z.enum(['mlp', 'logistic']) }),
});

/** JSON.parse that yields undefined (then a schema error naming the file) instead of a bare SyntaxError. */
const parseJson = (bytes: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
};

const isMissing = (error: unknown): boolean =>
  error instanceof NoSuchKey || ['NoSuchKey', 'NotFound'].includes((error as { name?: string } | null)?.name ?? '');

/**
 * The model registry on S3:
 * `models/<version>/{model.json, weights.bin, metadata.json, decision.json}` and the
 * `models/champion.json` pointer, written last, so a reader never sees a half-written champion.
 *
 * Which model becomes champion is the domain's policy (`decidePromotion`, model/registry/promotion.ts);
 * this class stores the models and the decision, then moves the pointer.
 * Registering the same training result again is idempotent (same version, same objects).
 */
export class S3ModelRegistry implements ModelRegistry {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix = 'models/',
  ) {}

  async register(result: TrainResult, context: RegistrationContext): Promise<PromotionDecision> {
    const window = TrainingWindow.parse(context.trainingWindow);
    const withContext = (artifacts: ModelArtifacts): ModelArtifacts => ({
      ...artifacts,
      metadata: StoredModelMetadata.parse({ ...artifacts.metadata, trainingWindow: window }),
    });
    const mlp = withContext(await result.model.toArtifacts());
    // A TrainResult always carries its baseline; a structural look-alike (tests, older callers) may not.
    const baseline = result.baseline ? withContext(result.baseline) : undefined;
    const mlpVersion = mlp.metadata.version;
    const pointer = await this.#champion();
    const verdict = await decidePromotion(
      {
        mlp: { version: mlpVersion, model: result.model, metrics: result.metrics },
        baselineMetrics: result.baselineMetrics,
        baseline,
        validation: result.validation,
      },
      pointer && { version: pointer.version, load: () => this.load(pointer.version) },
    );
    const decidedAt = new Date().toISOString();
    await this.#store(mlp, { promoted: verdict.winner === 'mlp', reason: verdict.mlpReason ?? verdict.reason, decidedAt });
    if (verdict.winner === 'logistic' && baseline) await this.#store(baseline, { promoted: true, reason: verdict.reason, decidedAt });
    const winner =
      verdict.winner === 'logistic' && baseline ? baseline.metadata.version : verdict.winner === 'mlp' ? mlpVersion : undefined;
    if (winner)
      await this.#put(
        `${this.prefix}champion.json`,
        JSON.stringify({ version: winner, promotedAt: decidedAt, reason: verdict.reason }),
        'application/json',
      );
    if (verdict.winner === 'logistic' && baseline) {
      return {
        version: baseline.metadata.version,
        promoted: true,
        reason: verdict.reason,
        kind: 'logistic',
        challengerVersion: mlpVersion,
      };
    }
    return { version: mlpVersion, promoted: verdict.winner === 'mlp', reason: verdict.reason, kind: 'mlp' };
  }

  /** Writes a model's artifacts, then its decision (the champion pointer is the caller's, last). */
  async #store(artifacts: ModelArtifacts, decision: { promoted: boolean; reason: string; decidedAt: string }): Promise<void> {
    const { version } = artifacts.metadata;
    const dir = `${this.prefix}${version}/`;
    await this.#put(`${dir}weights.bin`, artifacts.weights, 'application/octet-stream');
    await this.#put(`${dir}model.json`, artifacts.modelJson, 'application/json');
    await this.#put(`${dir}metadata.json`, JSON.stringify(artifacts.metadata, null, 2), 'application/json');
    await this.#put(`${dir}decision.json`, JSON.stringify(Decision.parse({ version, ...decision })), 'application/json');
  }

  async loadChampion(): Promise<ChurnModel | undefined> {
    const pointer = await this.#champion();
    return pointer ? this.load(pointer.version) : undefined;
  }

  async load(version: string): Promise<ChurnModel> {
    if (!VERSION.test(version))
      throw new Error(`not a model version: "${version}" (expected m-<yyyymmddThhmmssZ>-<6 hex>, or with -lr for a baseline)`);
    const dir = `${this.prefix}${version}/`;
    const where = `s3://${this.bucket}/${dir}`;
    const [modelJson, weights, metadataBytes] = await Promise.all(
      ['model.json', 'weights.bin', 'metadata.json'].map((f) => this.#get(`${dir}${f}`)),
    );
    if (!modelJson || !weights || !metadataBytes)
      throw new Error(`model ${version} is incomplete or missing at ${where} (needs model.json, weights.bin, metadata.json)`);
    let metadata: StoredModelMetadata;
    try {
      metadata = StoredModelMetadata.parse(JSON.parse(new TextDecoder().decode(metadataBytes)));
    } catch (error) {
      throw new ModelIntegrityError(
        `model ${version}: ${where}metadata.json is invalid: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
    if (metadata.version !== version)
      throw new ModelIntegrityError(
        `model ${version}: ${where}metadata.json describes ${metadata.version}; refusing a mismatched artifact`,
      );
    return ChurnModel.fromArtifacts({ modelJson, weights, metadata });
  }

  async list(): Promise<ModelListing[]> {
    const pointer = await this.#champion();
    const versions: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, Delimiter: '/', ContinuationToken: token }),
      );
      for (const p of page.CommonPrefixes ?? []) {
        const name = p.Prefix?.slice(this.prefix.length).replace(/\/$/, '');
        if (name && VERSION.test(name)) versions.push(name);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const listings = await Promise.all(
      versions.sort().map(async (version) => {
        const [metadataBytes, decisionBytes] = await Promise.all([
          this.#get(`${this.prefix}${version}/metadata.json`),
          this.#get(`${this.prefix}${version}/decision.json`),
        ]);
        if (!metadataBytes) return undefined;
        const metadata = ListedMetadata.safeParse(parseJson(metadataBytes));
        if (!metadata.success)
          throw new Error(`s3://${this.bucket}/${this.prefix}${version}/metadata.json is unreadable: ${formatIssues(metadata.error)}`);
        const decision = decisionBytes ? Decision.safeParse(parseJson(decisionBytes)) : undefined;
        return {
          version,
          kind: metadata.data.architecture.kind,
          createdAt: metadata.data.createdAt,
          promoted: decision?.success ? decision.data.promoted : false,
          champion: pointer?.version === version,
          metrics: metadata.data.metrics,
          reason: decision?.success ? decision.data.reason : 'no decision recorded',
        };
      }),
    );
    return listings.filter((l): l is ModelListing => l !== undefined);
  }

  async #champion(): Promise<z.output<typeof ChampionPointer> | undefined> {
    const bytes = await this.#get(`${this.prefix}champion.json`);
    if (!bytes) return undefined;
    const parsed = ChampionPointer.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    if (!parsed.success) throw new Error(`s3://${this.bucket}/${this.prefix}champion.json is invalid: ${formatIssues(parsed.error)}`);
    return parsed.data;
  }

  async #put(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async #get(key: string): Promise<Uint8Array | undefined> {
    try {
      const result = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await result.Body?.transformToByteArray();
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
  }
}
