import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3ServiceException } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../adapters/aws/clients.ts';
import { S3ModelRegistry } from '../../adapters/aws/modelRegistry.ts';
import { type LocalStack, openLocalStack } from '../../cli/local/localStack.ts';
import type { FeatureMatrix } from '../../model/features/matrix.ts';
import { initBackend } from '../../model/nn/backend.ts';
import { type TrainOptions, type TrainResult, trainChurnModel } from '../../model/nn/trainChurnModel.ts';
import { syntheticMatrix } from '../unit/nnFixtures.ts';

/**
 * Two training runs that overlap: both read "no champion", both decide to promote, and the worse
 * one writes the pointer last. The pointer must end up naming the better model.
 *
 * s3rver ignores S3's conditional-write headers, so each registry's client here enforces them
 * the way S3 documents (If-None-Match: * fails when the object exists, If-Match fails when the ETag
 * differs, both with 412 PreconditionFailed), and orders the two runs' reads and writes.
 */

const FAST: TrainOptions = {
  // A final fit would learn the validation rows' real labels, and the worse model would no longer be worse.
  finalFit: false,
  epochs: 25,
  architecture: { hidden: [16, 8], batchSize: 64, ensemble: 2, refit: false },
  preprocessing: { numericSegments: 0 },
  seed: 5,
};
const WINDOW = { from: '2026-05-01T00:00:00.000Z', to: '2026-06-01T00:00:00.000Z' };
const CHAMPION_KEY = 'models/champion.json';
const train = syntheticMatrix(600, 21);
const validation = syntheticMatrix(300, 22, { idPrefix: 'v' });

let dataDir: string;
let stack: LocalStack;
let clients: AwsClients;
let good: TrainResult;
let worse: TrainResult;

/** A model trained on reversed labels: it knows nothing useful. */
function withReversedLabels(matrix: FeatureMatrix): FeatureMatrix {
  const labels = Int8Array.from(matrix.labels);
  labels.reverse();
  return { ...matrix, labels };
}

const deferred = () => {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

/** An S3 client with S3's conditional writes, whose champion reads and writes wait on the given gates. */
function conditionalClient(gates: {
  beforeRead?: Promise<void>;
  afterRead?: () => void;
  beforeWrite?: Promise<void>;
  afterWrite?: () => void;
}) {
  const s3 = clients.s3;
  return {
    async send(command: unknown): Promise<unknown> {
      if (command instanceof GetObjectCommand && command.input.Key === CHAMPION_KEY) {
        await gates.beforeRead;
        try {
          return await s3.send(command);
        } finally {
          gates.afterRead?.();
        }
      }
      if (command instanceof PutObjectCommand && command.input.Key === CHAMPION_KEY) {
        await gates.beforeWrite;
        const { IfMatch, IfNoneMatch } = command.input;
        const etag = await s3.send(new HeadObjectCommand({ Bucket: command.input.Bucket, Key: CHAMPION_KEY })).then(
          (head) => head.ETag,
          () => undefined,
        );
        if ((IfNoneMatch === '*' && etag !== undefined) || (IfMatch !== undefined && IfMatch !== etag)) {
          throw new S3ServiceException({
            name: 'PreconditionFailed',
            $fault: 'client',
            $metadata: { httpStatusCode: 412 },
            message: 'At least one of the pre-conditions you specified did not hold',
          });
        }
        try {
          return await s3.send(command);
        } finally {
          gates.afterWrite?.();
        }
      }
      return s3.send(command as never);
    },
  } as unknown as AwsClients['s3'];
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'churnguard-registry-race-'));
  stack = await openLocalStack(dataDir);
  clients = createAwsClients();
  await initBackend(() => {});
  good = await trainChurnModel(train, validation, FAST);
  worse = await trainChurnModel(withReversedLabels(train), validation, { ...FAST, seed: 6 });
}, 120_000);

afterAll(async () => {
  good?.model.dispose();
  worse?.model.dispose();
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('two overlapping registrations', () => {
  it('leave the better model champion, even when the worse one writes the pointer last', async () => {
    const bucket = process.env.BUCKET_NAME ?? 'churnguard';
    const goodRead = deferred();
    const worseRead = deferred();
    const goodWritten = deferred();
    // Both read the (absent) pointer before either writes; the worse run writes after the good one.
    const goodRegistry = new S3ModelRegistry(
      conditionalClient({ afterRead: goodRead.resolve, beforeWrite: worseRead.promise, afterWrite: goodWritten.resolve }),
      bucket,
    );
    const worseRegistry = new S3ModelRegistry(
      conditionalClient({ afterRead: worseRead.resolve, beforeWrite: Promise.all([goodRead.promise, goodWritten.promise]).then(() => {}) }),
      bucket,
    );
    // Act
    const [goodDecision, worseDecision] = await Promise.all([
      goodRegistry.register(good, { trainingWindow: WINDOW }),
      worseRegistry.register(worse, { trainingWindow: WINDOW }),
    ]);
    // Assess
    expect(goodDecision.promoted).toBe(true);
    expect(worseDecision.promoted).toBe(false);
    const pointer = await clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: CHAMPION_KEY }));
    expect(JSON.parse(await (pointer.Body?.transformToString() ?? Promise.resolve('{}'))).version).toBe(goodDecision.version);
    expect(worseDecision.reason).toContain(goodDecision.version);
  });
});
