import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../model/nn/backend.ts';
import { isHeldOutCustomer, planFinalFit } from '../../model/nn/finalFit.ts';
import { selectRows } from '../../model/nn/rows.ts';
import { type TrainOptions, type TrainResult, trainChurnModel } from '../../model/nn/trainChurnModel.ts';
import { syntheticMatrix } from './nnFixtures.ts';

// Customers c0…c799 at a training cutoff, and c0…c499 again at the newer validation cutoff.
const FAST: TrainOptions = { epochs: 20, architecture: { hidden: [16, 8], batchSize: 64, ensemble: 1 }, seed: 5 };
const train = syntheticMatrix(800, 1, { cutoff: '2026-04-01T00:00:00.000Z' });
const validation = syntheticMatrix(500, 2, { cutoff: '2026-05-01T00:00:00.000Z' });
const heldOut = (ids: readonly string[]) => ids.filter(isHeldOutCustomer);
let refitted: TrainResult;
let validatedOnly: TrainResult;

beforeAll(async () => {
  await initBackend(() => {});
  refitted = await trainChurnModel(train, validation, FAST);
  validatedOnly = await trainChurnModel(train, validation, { ...FAST, finalFit: false });
  return () => {
    refitted.model.dispose();
    validatedOnly.model.dispose();
  };
});

describe('the final fit on every labelled cutoff', () => {
  it('holds out about one customer in five, by a hash of the id, the same in every run', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => `cust-${i}`);
    expect(heldOut(ids).length / ids.length).toBeGreaterThan(0.18);
    expect(heldOut(ids).length / ids.length).toBeLessThan(0.22);
    expect(heldOut(ids)).toEqual(heldOut([...ids]));
  });

  it('learns from every labelled row of the other customers, validation cutoff included, at every cutoff', () => {
    const fittedRows = [...train.customerIds, ...validation.customerIds].filter((id) => !isHeldOutCustomer(id)).length;
    expect(refitted.finalFit).toEqual({
      fittedThrough: validation.cutoff,
      rows: fittedRows,
      calibrationRows: heldOut(validation.customerIds).length,
    });
    expect(refitted.model.metadata.training.trainRows).toBe(fittedRows);
    expect(refitted.model.metadata.trainingWindow.fittedThrough).toBe(validation.cutoff);
    expect(refitted.model.metadata.training.calibrationRows).toBe(heldOut(validation.customerIds).length);
  });

  it('is compared with a champion on the held-out customers only: rows neither model learnt from', () => {
    expect(refitted.validation.customerIds).toEqual(heldOut(validation.customerIds));
    expect(validatedOnly.validation.customerIds).toEqual(validation.customerIds);
  });

  it('keeps the validated model’s metrics and threshold, and stays calibrated on the held-out rows', () => {
    expect(refitted.metrics).toEqual(validatedOnly.metrics);
    expect(refitted.model.metadata.threshold).toBe(validatedOnly.model.metadata.threshold);
    const rows = refitted.validation;
    const risk = refitted.model.predict(rows);
    const meanRisk = risk.reduce((s, p) => s + p, 0) / risk.length;
    const rate = rows.labels.reduce((s, y) => s + y, 0) / rows.labels.length;
    expect(Math.abs(meanRisk - rate)).toBeLessThan(0.02);
  });

  it('gives a model that differs from the validated one (it learnt from more rows)', () => {
    const a = refitted.model.predict(validation);
    const b = validatedOnly.model.predict(validation);
    expect(a.some((p, i) => Math.abs(p - (b[i] as number)) > 1e-3)).toBe(true);
  });

  it('is skipped, saying why, when the held-out customers have too few churners to calibrate on', () => {
    const fewChurners = selectRows(
      validation,
      [...validation.labels.keys()].filter((r) => validation.labels[r] === 0 || r % 10 === 0),
    );
    const plan = planFinalFit(train, fewChurners);
    expect('skipped' in plan && plan.skipped).toMatch(
      /^the held-out customers have \d+ churners and \d+ stayers at the validation cutoff, fewer than 20 of each/,
    );
  });
});
