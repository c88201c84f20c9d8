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

/** A conditional write that lost: the object changed (412) or another conditional write was in flight (409). */
const isLostRace = (error: unknown): boolean => {
  const name = (error as { name?: string } | null)?.name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409;
};

/** Registrations that lost the race for the pointer are decided again at most this many times. */
const CHAMPION_SWAP_ATTEMPTS = 5;

const isMissing = (error: unknown): boolean =>
  error instanceof NoSuchKey || ['NoSuchKey', 'NotFound'].includes((error as { name?: string } | null)?.name ?? '');

/**
 * The model registry on S3:
 * `models/<version>/{model.json, weights.bin, metadata.json, decision.json}` and the
 * `models/champion.json` pointer, written last (and only by compare-and-swap), so a reader never
 * sees a half-written champion and overlapping training runs cannot promote a model blindly.
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

  /**
   * Stores the models and moves the champion pointer with a compare-and-swap: the pointer is
   * written only if it still names the champion the decision was made against (S3 conditional
   * writes: If-Match its ETag, or If-None-Match when there was none). When another training run
   * moved it in between, the decision is made again against the new champion, so two overlapping
   * runs never let the later one replace a better model it was never compared with.
   */
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
    for (let attempt = 1; ; attempt++) {
      const current = await this.#championWithTag();
      const pointer = current?.pointer;
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
      if (winner && winner !== pointer?.version) {
        const body = JSON.stringify({ version: winner, promotedAt: decidedAt, reason: verdict.reason });
        const swapped = await this.#swapChampion(body, current?.etag);
        if (!swapped) {
          if (attempt >= CHAMPION_SWAP_ATTEMPTS)
            throw new Error(`champion pointer kept changing under ${attempt} registrations of ${mlpVersion}; register it again later`);
          continue;
        }
      }
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
  }

  /**
   * Writes `models/champion.json` only if it is unchanged since it was read (`etag`), or still
   * absent when there was none. False when another writer got there first.
   */
  async #swapChampion(body: string, etag: string | undefined): Promise<boolean> {
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: `${this.prefix}champion.json`,
          Body: body,
          ContentType: 'application/json',
          ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
        }),
      );
      return true;
    } catch (error) {
      if (isLostRace(error)) return false;
      throw error;
    }
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
    return (await this.#championWithTag())?.pointer;
  }

  /** The pointer and the ETag of the object holding it (the compare-and-swap's version). */
  async #championWithTag(): Promise<{ pointer: z.output<typeof ChampionPointer>; etag: string | undefined } | undefined> {
    const key = `${this.prefix}champion.json`;
    let object: { bytes: Uint8Array; etag: string | undefined };
    try {
      const result = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      object = { bytes: (await result.Body?.transformToByteArray()) ?? new Uint8Array(), etag: result.ETag };
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    const parsed = ChampionPointer.safeParse(parseJson(object.bytes));
    if (!parsed.success) throw new Error(`s3://${this.bucket}/${key} is invalid: ${formatIssues(parsed.error)}`);
    return { pointer: parsed.data, etag: object.etag };
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
