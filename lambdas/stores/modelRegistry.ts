import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { ModelIntegrityError } from '../../model/nn/artifacts.ts';
import { ChurnModel } from '../../model/nn/churnModel.ts';
import { StoredModelMetadata, TrainingWindow } from '../../model/nn/metadata.ts';
import { rocAuc } from '../../model/nn/metrics.ts';
import { IncompatibleFeaturesError } from '../../model/nn/preprocessing.ts';
import type { TrainResult } from '../../model/nn/trainChurnModel.ts';
import { ModelMetrics } from '../../model/runSummary.ts';

/** What the caller knows about the data a model was trained on. */
export interface RegistrationContext {
  trainingWindow: TrainingWindow;
  dataFingerprint: string;
}

export interface PromotionDecision {
  version: string;
  promoted: boolean;
  /** Why, in a sentence with the figures compared. */
  reason: string;
}

export interface ModelListing {
  version: string;
  createdAt: string;
  promoted: boolean;
  champion: boolean;
  metrics: ModelMetrics;
  reason: string;
}

/** Versioned churn models with one champion: the model that scores customers. */
export interface ModelRegistry {
  register(result: TrainResult, context: RegistrationContext): Promise<PromotionDecision>;
  loadChampion(): Promise<ChurnModel | undefined>;
  load(version: string): Promise<ChurnModel>;
  list(): Promise<ModelListing[]>;
}

const VERSION = /^m-\d{8}T\d{6}Z-[0-9a-f]{6}$/;
const ChampionPointer = z.object({ version: z.string().regex(VERSION), promotedAt: z.string(), reason: z.string() });
const Decision = z.object({ version: z.string(), promoted: z.boolean(), reason: z.string(), decidedAt: z.string() });

/** The part of metadata.json a listing shows. */
const ListedMetadata = z.object({ createdAt: z.string(), metrics: ModelMetrics });

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

const auc = (n: number) => n.toFixed(4);

/**
 * The model registry on S3:
 * `models/<version>/{model.json, weights.bin, metadata.json, decision.json}` and the
 * `models/champion.json` pointer, written last, so a reader never sees a half-written champion.
 *
 * Promotion: the candidate must beat the logistic baseline (validation ROC AUC, strictly) and
 * the current champion scored on the SAME validation rows. When the champion cannot score them
 * (its feature columns are gone), the two are compared on their stored validation metrics
 * instead, and the reason says so. A champion that cannot be loaded at all (corrupted) is replaced.
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
    const artifacts = await result.model.toArtifacts();
    const metadata = StoredModelMetadata.parse({ ...artifacts.metadata, trainingWindow: window, dataFingerprint: context.dataFingerprint });
    const { version } = metadata;
    const decision = await this.#decide(result);
    const dir = `${this.prefix}${version}/`;
    await this.#put(`${dir}weights.bin`, artifacts.weights, 'application/octet-stream');
    await this.#put(`${dir}model.json`, artifacts.modelJson, 'application/json');
    await this.#put(`${dir}metadata.json`, JSON.stringify(metadata, null, 2), 'application/json');
    const decidedAt = new Date().toISOString();
    await this.#put(`${dir}decision.json`, JSON.stringify(Decision.parse({ version, ...decision, decidedAt })), 'application/json');
    if (decision.promoted) {
      await this.#put(`${this.prefix}champion.json`, JSON.stringify({ version, promotedAt: decidedAt, reason: decision.reason }), 'application/json');
    }
    return { version, ...decision };
  }

  async #decide(result: TrainResult): Promise<{ promoted: boolean; reason: string }> {
    const { metrics, baselineMetrics } = result;
    const version = result.model.version;
    if (!(metrics.rocAuc > baselineMetrics.rocAuc)) {
      return { promoted: false, reason: `rejected: validation ROC AUC ${auc(metrics.rocAuc)} does not beat the logistic baseline's ${auc(baselineMetrics.rocAuc)}` };
    }
    const beatsBaseline = `beats the logistic baseline (ROC AUC ${auc(metrics.rocAuc)} vs ${auc(baselineMetrics.rocAuc)})`;
    const pointer = await this.#champion();
    if (!pointer) return { promoted: true, reason: `promoted: first model; ${beatsBaseline}` };
    if (pointer.version === version) return { promoted: true, reason: `already champion; ${beatsBaseline}` };
    let champion: ChurnModel;
    try {
      champion = await this.load(pointer.version);
    } catch (error) {
      return { promoted: true, reason: `promoted: the current champion ${pointer.version} cannot be loaded (${(error as Error).message}); ${beatsBaseline}` };
    }
    try {
      const labels = result.validation.labels;
      const candidateAuc = rocAuc(labels, result.model.predict(result.validation));
      const championAuc = rocAuc(labels, champion.predict(result.validation));
      const compared = `ROC AUC ${auc(candidateAuc)} vs champion ${pointer.version} ${auc(championAuc)} on the same ${labels.length} validation rows`;
      return candidateAuc > championAuc
        ? { promoted: true, reason: `promoted: ${compared}; ${beatsBaseline}` }
        : { promoted: false, reason: `rejected challenger: ${compared}` };
    } catch (error) {
      if (!(error instanceof IncompatibleFeaturesError)) throw error;
      const championAuc = champion.metadata.metrics.rocAuc;
      const compared = `the champion ${pointer.version} cannot score the new validation rows (${error.message}), so compared on stored validation metrics: ROC AUC ${auc(metrics.rocAuc)} vs ${auc(championAuc)}`;
      return metrics.rocAuc > championAuc ? { promoted: true, reason: `promoted: ${compared}` } : { promoted: false, reason: `rejected challenger: ${compared}` };
    } finally {
      champion.dispose();
    }
  }

  async loadChampion(): Promise<ChurnModel | undefined> {
    const pointer = await this.#champion();
    return pointer ? this.load(pointer.version) : undefined;
  }

  async load(version: string): Promise<ChurnModel> {
    if (!VERSION.test(version)) throw new Error(`not a model version: "${version}" (expected m-<yyyymmddThhmmssZ>-<6 hex>)`);
    const dir = `${this.prefix}${version}/`;
    const where = `s3://${this.bucket}/${dir}`;
    const [modelJson, weights, metadataBytes] = await Promise.all(['model.json', 'weights.bin', 'metadata.json'].map((f) => this.#get(`${dir}${f}`)));
    if (!modelJson || !weights || !metadataBytes) throw new Error(`model ${version} is incomplete or missing at ${where} (needs model.json, weights.bin, metadata.json)`);
    let metadata: StoredModelMetadata;
    try {
      metadata = StoredModelMetadata.parse(JSON.parse(new TextDecoder().decode(metadataBytes)));
    } catch (error) {
      throw new ModelIntegrityError(`model ${version}: ${where}metadata.json is invalid: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (metadata.version !== version) throw new ModelIntegrityError(`model ${version}: ${where}metadata.json describes ${metadata.version}; refusing a mismatched artifact`);
    return ChurnModel.fromArtifacts({ modelJson, weights, metadata });
  }

  async list(): Promise<ModelListing[]> {
    const pointer = await this.#champion();
    const versions: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix, Delimiter: '/', ContinuationToken: token }));
      for (const p of page.CommonPrefixes ?? []) {
        const name = p.Prefix?.slice(this.prefix.length).replace(/\/$/, '');
        if (name && VERSION.test(name)) versions.push(name);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const listings = await Promise.all(versions.sort().map(async (version) => {
      const [metadataBytes, decisionBytes] = await Promise.all([this.#get(`${this.prefix}${version}/metadata.json`), this.#get(`${this.prefix}${version}/decision.json`)]);
      if (!metadataBytes) return undefined;
      const metadata = ListedMetadata.safeParse(parseJson(metadataBytes));
      if (!metadata.success) throw new Error(`s3://${this.bucket}/${this.prefix}${version}/metadata.json is unreadable: ${metadata.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
      const decision = decisionBytes ? Decision.safeParse(parseJson(decisionBytes)) : undefined;
      return {
        version,
        createdAt: metadata.data.createdAt,
        promoted: decision?.success ? decision.data.promoted : false,
        champion: pointer?.version === version,
        metrics: metadata.data.metrics,
        reason: decision?.success ? decision.data.reason : 'no decision recorded',
      };
    }));
    return listings.filter((l): l is ModelListing => l !== undefined);
  }

  async #champion(): Promise<z.output<typeof ChampionPointer> | undefined> {
    const bytes = await this.#get(`${this.prefix}champion.json`);
    if (!bytes) return undefined;
    const parsed = ChampionPointer.safeParse(JSON.parse(new TextDecoder().decode(bytes)));
    if (!parsed.success) throw new Error(`s3://${this.bucket}/${this.prefix}champion.json is invalid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
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
