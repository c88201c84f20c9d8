import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../adapters/aws/clients.ts';
import { S3ModelRegistry } from '../../adapters/aws/modelRegistry.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import { initBackend } from '../../model/nn/backend.ts';
import { isHeldOutCustomer } from '../../model/nn/finalFit.ts';
import { rocAuc } from '../../model/nn/metrics.ts';
import { selectRows } from '../../model/nn/rows.ts';
import { type TrainOptions, type TrainResult, trainChurnModel } from '../../model/nn/trainChurnModel.ts';
import { syntheticMatrix } from '../unit/nnFixtures.ts';

// No refit and no final fit here: the registry's behaviour does not depend on them, and the
// tests stay quick. (A final fit would also learn from the validation rows' real labels, so the
// "weak" model trained on shuffled training labels would not be weak.) These tests need an MLP
// that beats its baseline; piecewise-linear segments would hand this data's one non-linear
// (U-shaped) driver to the baseline too, so they are off here.
const FAST: TrainOptions = {
  epochs: 25,
  architecture: { hidden: [16, 8], batchSize: 64, ensemble: 2, refit: false },
  preprocessing: { numericSegments: 0 },
  seed: 5,
  finalFit: false,
  asOf: '2026-06-01T00:00:00.000Z',
};
/** Version time stamps: a model trained "later" sorts after `good` in listings, whatever the wall clock. */
const LATER = { weak: '2026-06-01T00:01:00.000Z', better: '2026-06-01T00:02:00.000Z', refitted: '2026-06-01T00:03:00.000Z' };
const WINDOW = { from: '2026-05-01T00:00:00.000Z', to: '2026-06-01T00:00:00.000Z' };
const BUCKET = process.env.BUCKET_NAME ?? 'churnguard';
let dataDir: string;
let stack: LocalStack;
let clients: AwsClients;
let good: TrainResult;
const train = syntheticMatrix(600, 21);
const validation = syntheticMatrix(300, 22, { idPrefix: 'v' });

/**
 * A registry of its own under a fresh prefix: every test arranges the registrations it needs, so
 * each one runs alone (`vitest -t`) or in any order. The trained models are shared (beforeAll).
 */
const freshRegistry = (): { registry: S3ModelRegistry; prefix: string } => {
  const prefix = `t-${randomUUID()}/`;
  return { registry: new S3ModelRegistry(clients.s3, BUCKET, prefix), prefix };
};

/** ROC AUC of `result`'s model on the rows the registry compares on, computed here, not taken from the registry. */
const aucOn = (model: TrainResult['model'], rows: FeatureMatrix): number => rocAuc(rows.labels, model.predict(rows));
const auc = (x: number) => x.toFixed(4);

/** A model trained on shuffled labels: it knows nothing, so it must never replace a real champion. */
function withShuffledLabels(matrix: FeatureMatrix): FeatureMatrix {
  const labels = Int8Array.from(matrix.labels);
  labels.reverse();
  return { ...matrix, labels };
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'churnguard-registry-'));
  stack = await openLocalStack(dataDir);
  clients = createAwsClients();
  await initBackend(() => {});
  good = await trainChurnModel(train, validation, FAST);
});

afterAll(async () => {
  good?.model.dispose();
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('S3ModelRegistry', () => {
  it('has no champion before the first registration', async () => {
    const { registry } = freshRegistry();
    expect(await registry.loadChampion()).toBeUndefined();
    expect(await registry.list()).toEqual([]);
  });

  it('promotes a first model that beats its baseline, and the champion reloads with identical risks', async () => {
    const { registry } = freshRegistry();
    const decision = await registry.register(good, { trainingWindow: WINDOW });
    expect(good.metrics.rocAuc).toBeGreaterThan(good.baselineMetrics.rocAuc);
    expect(decision).toEqual({
      version: good.model.version,
      promoted: true,
      kind: 'mlp',
      reason: `promoted: first model; beats the logistic baseline (ROC AUC ${auc(good.metrics.rocAuc)} vs ${auc(good.baselineMetrics.rocAuc)})`,
    });
    const champion = await registry.loadChampion();
    const expected = good.model.predict(validation);
    const got = champion?.predict(validation) ?? new Float64Array();
    champion?.dispose();
    expect(
      Array.from(got)
        .map((p, i) => Math.abs(p - (expected[i] as number)))
        .every((d) => d < 1e-9),
    ).toBe(true);
    expect(champion?.metadata.trainingWindow).toEqual(WINDOW);
  });

  it('stores model.json, weights.bin and metadata.json with the weights sha256 under models/<version>/', async () => {
    // The default prefix: registering is idempotent, so this test may run before or after any other.
    await new S3ModelRegistry(clients.s3, BUCKET).register(good, { trainingWindow: WINDOW });
    const dir = `models/${good.model.version}/`;
    const read = async (name: string) => clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${dir}${name}` }));
    const metadata = JSON.parse((await (await read('metadata.json')).Body?.transformToString()) ?? '{}');
    // The backend that trained it, whichever loaded here (tfjs-node where installed, else wasm).
    expect(['tensorflow', 'wasm', 'cpu']).toContain(good.backend);
    expect(good.backend).toBe(tf.getBackend());
    expect(metadata).toMatchObject({
      version: good.model.version,
      dataFingerprint: good.model.metadata.dataFingerprint,
      backend: good.backend,
    });
    expect(JSON.parse((await (await read('model.json')).Body?.transformToString()) ?? '{}')).toHaveProperty('modelTopology');
    const weights = (await (await read('weights.bin')).Body?.transformToByteArray()) ?? new Uint8Array();
    expect(weights.length).toBeGreaterThan(0);
    expect(good.model.version.slice(-6)).toBe(good.model.metadata.dataFingerprint.slice(0, 6));
    expect(metadata.weightsSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(good.model.version).toMatch(/^m-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
  });

  it('is idempotent: registering the same result again keeps it champion', async () => {
    const { registry } = freshRegistry();
    await registry.register(good, { trainingWindow: WINDOW });
    const decision = await registry.register(good, { trainingWindow: WINDOW });
    expect(decision).toMatchObject({
      version: good.model.version,
      promoted: true,
      kind: 'mlp',
      reason: expect.stringMatching(/^already champion; /),
    });
    expect((await registry.list()).map((l) => [l.version, l.champion])).toEqual([[good.model.version, true]]);
  });

  it('keeps a weaker challenger as rejected, with the reason and figures, and the champion unchanged', async () => {
    const { registry } = freshRegistry();
    await registry.register(good, { trainingWindow: WINDOW });
    const weak = await trainChurnModel(withShuffledLabels(train), validation, { ...FAST, epochs: 5, asOf: LATER.weak });
    // Whatever the weak model scores against its own baseline, it must not beat the champion on the same rows.
    const decision = await registry.register(weak, { trainingWindow: WINDOW });
    const [weakAuc, championAuc] = [aucOn(weak.model, validation), aucOn(good.model, validation)];
    weak.model.dispose();
    expect(weakAuc).toBeLessThan(championAuc);
    expect(decision).toEqual({
      version: weak.model.version,
      promoted: false,
      kind: 'mlp',
      reason: `rejected challenger: ROC AUC ${auc(weakAuc)} vs champion ${good.model.version} ${auc(championAuc)} on the same 300 validation rows`,
    });
    const listing = await registry.list();
    expect(listing.map((l) => [l.version, l.champion, l.promoted])).toEqual([
      [good.model.version, true, true],
      [weak.model.version, false, false],
    ]);
    expect(listing[1]?.reason).toBe(decision.reason);
  });

  it('compares on the same validation rows: a champion scored on new data, not its stored figures', async () => {
    const { registry } = freshRegistry();
    await registry.register(good, { trainingWindow: WINDOW });
    const better = await trainChurnModel(train, validation, {
      ...FAST,
      epochs: 60,
      architecture: { hidden: [32, 16], batchSize: 64, ensemble: 1, refit: false },
      seed: 9,
      asOf: LATER.better,
    });
    const decision = await registry.register(better, { trainingWindow: WINDOW });
    const [betterAuc, championAuc] = [aucOn(better.model, validation), aucOn(good.model, validation)];
    better.model.dispose();
    // The figures of the decision are both models scored on the same 300 rows, here recomputed.
    expect(better.metrics.rocAuc).toBeGreaterThan(better.baselineMetrics.rocAuc);
    expect(betterAuc).toBeGreaterThan(championAuc);
    expect(decision).toEqual({
      version: better.model.version,
      promoted: true,
      kind: 'mlp',
      reason: `promoted: ROC AUC ${auc(betterAuc)} vs champion ${good.model.version} ${auc(championAuc)} on the same 300 validation rows; beats the logistic baseline (ROC AUC ${auc(better.metrics.rocAuc)} vs ${auc(better.baselineMetrics.rocAuc)})`,
    });
    const listing = await registry.list();
    expect(listing.map((l) => [l.version, l.champion, l.promoted])).toEqual([
      [good.model.version, false, true],
      [better.model.version, true, true],
    ]);
  });

  it('compares a model refitted on every labelled cutoff with the champion on the held-out customers only', async () => {
    const { registry } = freshRegistry();
    await registry.register(good, { trainingWindow: WINDOW });
    const refitted = await trainChurnModel(train, validation, { ...FAST, finalFit: true, seed: 12, asOf: LATER.refitted });
    const heldOutRows = validation.customerIds.flatMap((id, r) => (isHeldOutCustomer(id) ? [r] : []));
    const heldOut = selectRows(validation, heldOutRows);
    const decision = await registry.register(refitted, { trainingWindow: WINDOW });
    const [refittedAuc, championAuc] = [aucOn(refitted.model, heldOut), aucOn(good.model, heldOut)];
    refitted.model.dispose();
    expect(heldOutRows.length).toBeGreaterThan(40);
    expect(heldOutRows.length).toBeLessThan(100);
    expect(refitted.validation.customerIds).toEqual(heldOut.customerIds);
    const compared = `ROC AUC ${auc(refittedAuc)} vs champion ${good.model.version} ${auc(championAuc)} on the same ${heldOutRows.length} validation rows`;
    expect(refitted.metrics.rocAuc).toBeGreaterThan(refitted.baselineMetrics.rocAuc);
    expect(refittedAuc).toBeGreaterThan(championAuc);
    expect(decision).toEqual({
      version: refitted.model.version,
      promoted: true,
      kind: 'mlp',
      reason: `promoted: ${compared}; beats the logistic baseline (ROC AUC ${auc(refitted.metrics.rocAuc)} vs ${auc(refitted.baselineMetrics.rocAuc)})`,
    });
    expect((await registry.list()).filter((l) => l.champion).map((l) => l.version)).toEqual([refitted.model.version]);
  });

  it('refuses to load a model whose weights.bin was corrupted, with a clear error', async () => {
    const { registry, prefix } = freshRegistry();
    await registry.register(good, { trainingWindow: WINDOW });
    const key = `${prefix}${good.model.version}/weights.bin`;
    const object = await clients.s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const bytes = (await object.Body?.transformToByteArray()) ?? new Uint8Array();
    bytes[10] = (bytes[10] as number) ^ 0x55;
    await clients.s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: bytes }));
    await expect(registry.load(good.model.version)).rejects.toThrow(
      new RegExp(`model ${good.model.version}: weights.bin sha256 .* does not match metadata .*refusing to load`),
    );
  });

  it('names a missing version and rejects malformed version ids', async () => {
    const registry = new S3ModelRegistry(clients.s3, BUCKET);
    await expect(registry.load('m-20200101T000000Z-abcdef')).rejects.toThrow(
      new RegExp(`incomplete or missing at s3://${BUCKET}/models/m-20200101T000000Z-abcdef/`),
    );
    await expect(registry.load('../etc')).rejects.toThrow(/not a model version/);
  });
});

describe('S3ModelRegistry on a first run where the MLP does not beat its logistic baseline', () => {
  let lost: TrainResult;
  let lostVersion: string;

  beforeAll(async () => {
    // An MLP that barely moves from its random start (tiny learning rate) loses to its baseline.
    lost = await trainChurnModel(train, validation, { ...FAST, seed: 6, architecture: { ...FAST.architecture, learningRate: 1e-7 } });
    lostVersion = lost.model.version;
    return () => lost.model.dispose();
  });

  it('promotes the calibrated baseline when there is no champion yet, so the first run scores; the MLP stays a rejected challenger', async () => {
    // Prepare: the MLP really lost.
    expect(lost.metrics.rocAuc).toBeLessThanOrEqual(lost.baselineMetrics.rocAuc);
    const figures = `${lost.metrics.rocAuc.toFixed(4)} did not beat baseline ${lost.baselineMetrics.rocAuc.toFixed(4)}`;

    // Act
    const { registry: firstRun } = freshRegistry();
    const decision = await firstRun.register(lost, { trainingWindow: WINDOW });
    const champion = await firstRun.loadChampion();
    const scored = champion?.score(validation) ?? [];
    champion?.dispose();
    const listing = await firstRun.list();

    // Assess
    expect(decision).toEqual({
      version: `${lostVersion}-lr`,
      promoted: true,
      kind: 'logistic',
      challengerVersion: lostVersion,
      reason: `baseline promoted: MLP ${lostVersion} ROC AUC ${figures}; no champion yet`,
    });
    expect(champion?.version).toBe(`${lostVersion}-lr`);
    expect(champion?.metadata.architecture.kind).toBe('logistic');
    expect(champion?.metadata.metrics).toEqual(lost.baselineMetrics);
    expect(champion?.metadata.trainingWindow).toEqual(WINDOW);
    expect(scored).toHaveLength(300);
    expect(scored.filter((c) => c.band === 'high').length).toBeGreaterThan(0);
    expect(scored.some((c) => c.drivers.length > 0)).toBe(true);
    expect(listing.map((l) => [l.version, l.kind, l.promoted, l.champion])).toEqual([
      [lostVersion, 'mlp', false, false],
      [`${lostVersion}-lr`, 'logistic', true, true],
    ]);
    expect(listing[0]?.reason).toMatch(
      /^rejected: validation ROC AUC .* does not beat the logistic baseline's .*; its baseline m-.*-lr was promoted instead$/,
    );
  });

  it('is idempotent for the baseline too: registering the same result again keeps the baseline champion', async () => {
    const { registry: firstRun } = freshRegistry();
    await firstRun.register(lost, { trainingWindow: WINDOW });
    const decision = await firstRun.register(lost, { trainingWindow: WINDOW });
    expect(decision).toEqual({
      version: `${lostVersion}-lr`,
      promoted: true,
      kind: 'logistic',
      challengerVersion: lostVersion,
      reason: `already champion; baseline promoted: MLP ${lostVersion} ROC AUC ${auc(lost.metrics.rocAuc)} did not beat baseline ${auc(lost.baselineMetrics.rocAuc)}`,
    });
    expect((await firstRun.list()).map((l) => [l.version, l.champion])).toEqual([
      [lostVersion, false],
      [`${lostVersion}-lr`, true],
    ]);
  });

  it('lets a later MLP that beats its own baseline and the baseline champion on the same rows replace it', async () => {
    const { registry: firstRun } = freshRegistry();
    await firstRun.register(lost, { trainingWindow: WINDOW });
    const decision = await firstRun.register(good, { trainingWindow: WINDOW });
    const listing = await firstRun.list();
    expect(decision).toMatchObject({ version: good.model.version, promoted: true, kind: 'mlp' });
    expect(decision.reason).toMatch(
      new RegExp(`^promoted: ROC AUC \\S+ vs champion ${lostVersion}-lr \\S+ on the same 300 validation rows; beats the logistic baseline`),
    );
    expect(listing.filter((l) => l.champion).map((l) => [l.version, l.kind])).toEqual([[good.model.version, 'mlp']]);
  });
});
