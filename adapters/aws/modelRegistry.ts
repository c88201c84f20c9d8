import { GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { ModelIntegrityError } from '../../model/nn/artifacts.ts';
import { ChurnModel, type ModelArtifacts } from '../../model/nn/churnModel.ts';
import { MODEL_VERSION_PATTERN, StoredModelMetadata, TrainingWindow } from '../../model/nn/metadata.ts';
import { rocAuc } from '../../model/nn/metrics.ts';
import { IncompatibleFeaturesError } from '../../model/nn/preprocessing.ts';
import type { TrainResult } from '../../model/nn/trainChurnModel.ts';
import { ModelMetrics } from '../../model/nn/metricSchemas.ts';

/** What the caller knows about the data a model was trained on. */
export interface RegistrationContext {
  trainingWindow: TrainingWindow;
  dataFingerprint: string;
}

/** What a registered model is: the churn network, or the logistic-regression baseline. */
export type ModelKind = 'mlp' | 'logistic';

export interface PromotionDecision {
  /** The model this decision is about: the MLP, or its baseline (`<mlp version>-lr`) when the baseline was promoted instead. */
  version: string;
  promoted: boolean;
  /** Why, in a sentence with the figures compared. */
  reason: string;
  kind: ModelKind;
  /** When the baseline was promoted: the MLP of the same run, stored as a rejected challenger. */
  challengerVersion?: string;
}

export interface ModelListing {
  version: string;
  kind: ModelKind;
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

const VERSION = MODEL_VERSION_PATTERN;
const ChampionPointer = z.object({ version: z.string().regex(VERSION), promotedAt: z.string(), reason: z.string() });
const Decision = z.object({ version: z.string(), promoted: z.boolean(), reason: z.string(), decidedAt: z.string() });

/** The part of metadata.json a listing shows. */
const ListedMetadata = z.object({ createdAt: z.string(), metrics: ModelMetrics, architecture: z.object({ kind: z.enum(['mlp', 'logistic']) }) });

/** The outcome of comparing a candidate with the current champion. */
interface VersusChampion {
  wins: boolean;
  /** The comparison, with figures, for the reason. */
  compared: string;
}

/** Which model of a training run becomes champion (if any), and why. */
interface Verdict {
  winner: ModelKind | undefined;
  reason: string;
  /** The MLP's own decision when its baseline won. */
  mlpReason?: string;
}

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
 * the current champion scored on the SAME validation rows. When it does not beat its baseline,
 * the baseline (a complete model of kind 'logistic', `<version>-lr`) is promoted instead if there
 * is no champion yet or it beats the champion on the same rows; the MLP is then kept as a
 * rejected challenger. When the champion cannot score them
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
    const withContext = (artifacts: ModelArtifacts): ModelArtifacts => ({
      ...artifacts,
      metadata: StoredModelMetadata.parse({ ...artifacts.metadata, trainingWindow: window, dataFingerprint: context.dataFingerprint }),
    });
    const mlp = withContext(await result.model.toArtifacts());
    // A TrainResult always carries its baseline; a structural look-alike (tests, older callers) may not.
    const baseline = result.baseline ? withContext(result.baseline) : undefined;
    const mlpVersion = mlp.metadata.version;
    const verdict = await this.#decide(result, mlpVersion, baseline);
    const decidedAt = new Date().toISOString();
    await this.#store(mlp, { promoted: verdict.winner === 'mlp', reason: verdict.mlpReason ?? verdict.reason, decidedAt });
    if (verdict.winner === 'logistic' && baseline) await this.#store(baseline, { promoted: true, reason: verdict.reason, decidedAt });
    const winner = verdict.winner === 'logistic' && baseline ? baseline.metadata.version : verdict.winner === 'mlp' ? mlpVersion : undefined;
    if (winner) await this.#put(`${this.prefix}champion.json`, JSON.stringify({ version: winner, promotedAt: decidedAt, reason: verdict.reason }), 'application/json');
    if (verdict.winner === 'logistic' && baseline) {
      return { version: baseline.metadata.version, promoted: true, reason: verdict.reason, kind: 'logistic', challengerVersion: mlpVersion };
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

  /**
   * The MLP is promoted when it beats its baseline and the champion. When it does not beat its
   * baseline, the baseline is promoted if there is no champion yet, or if it beats the champion
   * on the same validation rows (a retention team never gets an empty queue because the network
   * lost to logistic regression); otherwise nothing changes.
   */
  async #decide(result: TrainResult, mlpVersion: string, baseline: ModelArtifacts | undefined): Promise<Verdict> {
    const { metrics, baselineMetrics } = result;
    const pointer = await this.#champion();
    if (metrics.rocAuc > baselineMetrics.rocAuc) {
      const beatsBaseline = `beats the logistic baseline (ROC AUC ${auc(metrics.rocAuc)} vs ${auc(baselineMetrics.rocAuc)})`;
      if (!pointer) return { winner: 'mlp', reason: `promoted: first model; ${beatsBaseline}` };
      if (pointer.version === mlpVersion) return { winner: 'mlp', reason: `already champion; ${beatsBaseline}` };
      const versus = await this.#versusChampion(pointer.version, result.model, result.validation, metrics.rocAuc);
      return versus.wins
        ? { winner: 'mlp', reason: `promoted: ${versus.compared}; ${beatsBaseline}` }
        : { winner: undefined, reason: `rejected challenger: ${versus.compared}` };
    }
    const rejectedMlp = `rejected: validation ROC AUC ${auc(metrics.rocAuc)} does not beat the logistic baseline's ${auc(baselineMetrics.rocAuc)}`;
    if (!baseline) return { winner: undefined, reason: rejectedMlp };
    const baselineVersion = baseline.metadata.version;
    const lost = `MLP ${mlpVersion} ROC AUC ${auc(metrics.rocAuc)} did not beat baseline ${auc(baselineMetrics.rocAuc)}`;
    const promoted = (why: string): Verdict => ({
      winner: 'logistic',
      reason: `baseline promoted: ${lost}; ${why}`,
      mlpReason: `${rejectedMlp}; its baseline ${baselineVersion} was promoted instead`,
    });
    if (!pointer) return promoted('no champion yet');
    if (pointer.version === baselineVersion) return { ...promoted('already champion'), reason: `already champion; baseline promoted: ${lost}` };
    const candidate = await ChurnModel.fromArtifacts(baseline);
    try {
      const versus = await this.#versusChampion(pointer.version, candidate, result.validation, baselineMetrics.rocAuc);
      return versus.wins ? promoted(versus.compared) : { winner: undefined, reason: `${rejectedMlp}; the baseline does not replace the champion either: ${versus.compared}` };
    } finally {
      candidate.dispose();
    }
  }

  /**
   * Scores the champion and `candidate` on the SAME validation rows. When the champion cannot
   * score them (its feature columns are gone) the stored validation metrics are compared; a
   * champion that cannot be loaded (corrupted) loses.
   */
  async #versusChampion(championVersion: string, candidate: ChurnModel, validation: TrainResult['validation'], candidateStoredAuc: number): Promise<VersusChampion> {
    let champion: ChurnModel;
    try {
      champion = await this.load(championVersion);
    } catch (error) {
      return { wins: true, compared: `the current champion ${championVersion} cannot be loaded (${(error as Error).message})` };
    }
    try {
      const labels = validation.labels;
      const candidateAuc = rocAuc(labels, candidate.predict(validation));
      const championAuc = rocAuc(labels, champion.predict(validation));
      return { wins: candidateAuc > championAuc, compared: `ROC AUC ${auc(candidateAuc)} vs champion ${championVersion} ${auc(championAuc)} on the same ${labels.length} validation rows` };
    } catch (error) {
      if (!(error instanceof IncompatibleFeaturesError)) throw error;
      const championAuc = champion.metadata.metrics.rocAuc;
      return {
        wins: candidateStoredAuc > championAuc,
        compared: `the champion ${championVersion} cannot score the new validation rows (${error.message}), so compared on stored validation metrics: ROC AUC ${auc(candidateStoredAuc)} vs ${auc(championAuc)}`,
      };
    } finally {
      champion.dispose();
    }
  }

  async loadChampion(): Promise<ChurnModel | undefined> {
    const pointer = await this.#champion();
    return pointer ? this.load(pointer.version) : undefined;
  }

  async load(version: string): Promise<ChurnModel> {
    if (!VERSION.test(version)) throw new Error(`not a model version: "${version}" (expected m-<yyyymmddThhmmssZ>-<6 hex>, or with -lr for a baseline)`);
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
        kind: metadata.data.architecture.kind,
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
