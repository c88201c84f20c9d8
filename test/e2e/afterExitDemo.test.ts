import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DemoResult, runDemo } from '../../cli/commands/demo.ts';
import { avoidableReasons, EXIT_REASON_CODES, type ExitReasonCode, type WinBackOffer } from '../../model/events/exitReasons.ts';
import { type CustomerTruth, winBackReturnChance } from '../../model/simulate/index.ts';

/**
 * The demo's after-exit results checked against the simulator's truth (600 customers, 90 days,
 * seed 1): churn by reason and avoidability, churn by segment, exit surveys, win-back messages and
 * the returns they bring. Tolerances, stated per check: the reasons the analytics know are the
 * stated ones exactly; what it cannot know (unstated reasons) bounds the true figure from both
 * sides; the returns are binomial draws, within 3 standard deviations (+1) of their expectation.
 */
const BUSINESS = { customers: 600, days: 90, seed: 1 };
const DAY_MS = 86_400_000;
const avoidable = avoidableReasons();

let dataDir: string;
let demo: DemoResult;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'churnguard-after-exit-demo-'));
  // A budget the at-risk outreach (66 here) and the after-exit step (about 25) share without running out.
  demo = await runDemo({ ...BUSINESS, dataDir, progress: false, scanSegments: 1, budget: 200 });
}, 300_000);

afterAll(async () => {
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

const churnedIn = (truth: readonly CustomerTruth[], fromMs: number, toMs: number) =>
  truth.filter((t) => t.churnedAt !== null && Date.parse(t.churnedAt) >= fromMs && Date.parse(t.churnedAt) < toMs);

describe('churnguard demo, after exit, against the truth', () => {
  it('splits monthly churn by reason: stated reasons exactly, avoidable churn bounded by what is unknown', () => {
    const rows = demo.job.summary.churnByReason ?? [];
    const months = rows.filter((row) => row.month >= demo.window.start.slice(0, 7));
    expect(months.length).toBeGreaterThanOrEqual(3);
    for (const row of months) {
      const from = Date.parse(`${row.month}-01T00:00:00Z`);
      const to = Date.UTC(new Date(from).getUTCFullYear(), new Date(from).getUTCMonth() + 1, 1);
      const truth = churnedIn(demo.truth, from, to);
      expect(row.lost, row.month).toBe(truth.length);
      for (const code of EXIT_REASON_CODES) {
        const stated = truth.filter((t) => t.exitReasonRecorded && t.exitReason === code).length;
        const all = truth.filter((t) => t.exitReason === code).length;
        if (code === 'payment_failure') {
          expect(row.byReason[code], `${row.month} ${code}`).toBeGreaterThanOrEqual(stated);
          expect(row.byReason[code], `${row.month} ${code}`).toBeLessThanOrEqual(all);
        } else {
          expect(row.byReason[code], `${row.month} ${code}`).toBe(stated);
        }
      }
      const trueAvoidable = truth.filter((t) => t.exitReason !== null && avoidable.has(t.exitReason)).length;
      expect(row.avoidable).toBeLessThanOrEqual(trueAvoidable);
      expect(row.avoidable + row.unknown).toBeGreaterThanOrEqual(trueAvoidable);
      expect(row.churnRate).toBeCloseTo(row.lost / row.customersAtStart);
    }
  });

  it('rates churn by segment over the last 90 days: the plan segments add up to the true population and losses', () => {
    const segments = demo.job.summary.churnBySegment;
    expect(segments).toBeDefined();
    const from = Date.parse(segments?.periodStart ?? '');
    const to = Date.parse(segments?.periodEnd ?? '');
    const plans = segments?.segments.filter((s) => s.dimension === 'plan') ?? [];
    expect(plans.map((s) => s.segment).sort()).toEqual(['business', 'pro', 'starter']);
    const atStart = demo.truth.filter((t) => Date.parse(t.signedUpAt) < from && (t.churnedAt === null || Date.parse(t.churnedAt) >= from));
    expect(plans.reduce((n, s) => n + s.customersAtStart, 0)).toBe(atStart.length);
    expect(plans.reduce((n, s) => n + s.lost, 0)).toBe(churnedIn(atStart, from, to).length);
    for (const s of segments?.segments ?? []) {
      expect(s.customersAtStart).toBeGreaterThanOrEqual(segments?.minCustomers ?? 30);
      expect(s.low).toBeLessThanOrEqual(s.churnRate);
      expect(s.high).toBeGreaterThanOrEqual(s.churnRate);
    }
  });

  it('sends one exit survey to each recent cancellation without a reason, and win-backs only for avoidable reasons in the window', () => {
    const { first } = demo.afterExit;
    const endMs = Date.parse(demo.window.end);
    const recent = churnedIn(demo.truth, endMs - 60 * DAY_MS, endMs);
    const unstated = recent.filter((t) => !t.exitReasonRecorded);
    // An unstated cancellation with an unrecovered failed payment is read as payment_failure: no survey.
    expect(first.exitSurveys.sent).toBe(first.exitSurveys.candidates);
    expect(first.exitSurveys.sent).toBeGreaterThanOrEqual(unstated.filter((t) => t.exitReason !== 'payment_failure').length);
    expect(first.exitSurveys.sent).toBeLessThanOrEqual(unstated.length);
    const inWindow = churnedIn(demo.truth, endMs - 60 * DAY_MS, endMs - 7 * DAY_MS).filter(
      (t) => t.exitReason && avoidable.has(t.exitReason),
    );
    expect(first.winBack.sent).toBeGreaterThanOrEqual(inWindow.filter((t) => t.exitReasonRecorded).length);
    expect(first.winBack.sent).toBeLessThanOrEqual(inWindow.length);
    expect(demo.afterExit.winBacks.length).toBe(first.winBack.sent);
    for (const w of demo.afterExit.winBacks) {
      expect(w.reasonCode, w.customerId).toBe(w.trueReason);
      expect(avoidable.has(w.reasonCode as ExitReasonCode)).toBe(true);
    }
  });

  it('brings back about as many customers as the simulated return chances say, and the follow-up sees exactly them', () => {
    const { winBacks, responses, followUp } = demo.afterExit;
    const chances = winBacks.map((w) => winBackReturnChance(w.trueReason as ExitReasonCode, w.offer as WinBackOffer));
    const expected = chances.reduce((s, p) => s + p, 0);
    const sd = Math.sqrt(chances.reduce((s, p) => s + p * (1 - p), 0));
    expect(Math.abs(responses.reactivations - expected)).toBeLessThanOrEqual(3 * sd + 1);
    expect(followUp.funnel.contacted).toBe(winBacks.length);
    expect(followUp.funnel.reactivated).toBe(responses.reactivations);
  });

  it('sends no second win-back, and none to a customer who came back, in the follow-up step', () => {
    const { winBacks, followUpMessages } = demo.afterExit;
    const offered = new Set(winBacks.map((w) => w.customerId));
    const followUpWinBacks = followUpMessages.filter((m) => m.playbook === 'win_back');
    expect(followUpWinBacks.filter((m) => offered.has(m.customerId))).toEqual([]);
    expect(followUpMessages.filter((m) => m.playbook === 'exit_survey')).toEqual([]);
    expect(followUpWinBacks.every((m) => m.reasonCode !== 'no_longer_needed' && m.reasonCode !== 'other')).toBe(true);
    // Survey answers with an avoidable reason are offered a win-back in the follow-up.
    expect(demo.afterExit.responses.exitSurveyAnswers).toBeGreaterThan(0);
  });
});
