import type { ExitReasonCode } from '../events/exitReasons.ts';
import type { ChurnEvent, EventOf, EventType } from '../events/schemas.ts';
import {
  CHANNEL_MIX,
  CHANNELS,
  type ChurnCause,
  COMPANY_SIZES,
  COUNTRIES,
  DOWNGRADE,
  falseAlarmChance,
  INDUSTRIES,
  loyaltyFactor,
  PASSIVE_QUIET_DAYS,
  PLAN_CHURN,
  PLAN_MIX,
  PLANS,
  type PlanName,
  RATES,
  SIZE_MIX,
  UPGRADE,
} from './catalog.ts';
import { drawExitReason, REASON_RECORDED_SHARE } from './exitBehaviour.ts';
import type { Random } from './random.ts';
import { outreachSaves, type TreatmentTruth } from './treatment.ts';
import type { CustomerFrame, CustomerTruth, SimulatedCustomer } from './types.ts';

export const DAY_MS = 86_400_000;

/** Weeks simulated before the window for existing subscribers: it opens in a steady state (churn under way, usage history). */
export const WARMUP_DAYS = 56;

/** A churn process: the weeks of signals before a customer leaves, or a false alarm. */
interface Process {
  cause: ChurnCause;
  startDay: number;
  /** Day of cancellation; null for a false alarm. */
  churnDay: number | null;
  /** Day the process is over (false alarm recovered, or the churn day). */
  endDay: number;
  /** Usage multiplier on a given day of the process. */
  usage: (day: number) => number;
  /** Day of the first failed payment of an involuntary process. */
  firstFailureDay?: number;
}

/** Simulates one customer's life over the window, day by day. */
export class CustomerSimulation {
  private readonly events: ChurnEvent[] = [];
  private seq = 0;
  private tickets = 0;
  private plan: PlanName;
  private readonly sessionRate: number;
  private readonly sizeUsage: number;
  private readonly staticHazard: number;
  private drift = 0;
  private process: Process | null = null;
  private churnedDay: number | null = null;
  private cancelledAt: string | null = null;
  private churnCause: ChurnCause | null = null;
  private exit: { reason: ExitReasonCode; recorded: boolean } | null = null;
  /** Days on which a failed payment is retried (dunning) in the current process. */
  private readonly retryDays = new Set<number>();
  private readonly openTickets: Array<{ id: string; resolveDay: number | null }> = [];
  private pendingPaymentRecovery: number | null = null;
  private signupMs = Number.NEGATIVE_INFINITY;
  private readonly treated: TreatmentTruth[] = [];

  constructor(
    private readonly rng: Random,
    private readonly frame: CustomerFrame,
  ) {
    this.plan = rng.weighted(PLAN_MIX);
    const size = rng.weighted(SIZE_MIX[this.plan]);
    const channel = rng.weighted(CHANNEL_MIX);
    this.sizeUsage = COMPANY_SIZES[size].usage;
    this.sessionRate = RATES.sessionsPerDay * Math.exp(rng.normal(-0.125, 0.5));
    this.staticHazard = RATES.churnTriggerPerDay * PLAN_CHURN[this.plan] * COMPANY_SIZES[size].churn * CHANNELS[channel];
    // Sign-ups happen before the day's first session (sessions start at 07:00), so nothing precedes them.
    const signupAt = this.at(frame.signupDay, rng.int(6 * 3600, 7 * 3600 - 2));
    this.signupMs = signupAt;
    this.emit('subscription_started', signupAt, { plan: this.plan, mrrCents: PLANS[this.plan].mrrCents });
    this.emit('customer_profile', signupAt, {
      attributes: { country: rng.pick(COUNTRIES), companySize: size, acquisitionChannel: channel, industry: rng.pick(INDUSTRIES) },
    });
  }

  run(): SimulatedCustomer {
    const first = Math.max(this.frame.signupDay, this.frame.startDay - WARMUP_DAYS);
    for (let day = first; day < this.frame.endDay && this.churnedDay === null; day++) this.simulateDay(day);
    // Some signals are scheduled ahead (a follow-up ticket, a survey); a customer who left sends none.
    if (this.cancelledAt !== null) {
      const last = this.cancelledAt;
      this.events.splice(0, this.events.length, ...this.events.filter((e) => e.occurredAt <= last));
    }
    this.events.sort((a, b) => (a.occurredAt < b.occurredAt ? -1 : a.occurredAt > b.occurredAt ? 1 : 0));
    return { events: this.events, truth: this.truth() };
  }

  private truth(): CustomerTruth {
    const p = this.process;
    const iso = (day: number) => new Date(day * DAY_MS).toISOString();
    return {
      customerId: this.frame.customerId,
      signedUpAt: iso(this.frame.signupDay),
      plan: this.plan,
      mrrCents: PLANS[this.plan].mrrCents,
      churned: this.churnedDay !== null,
      cause: this.churnCause,
      churnedAt: this.churnedDay === null ? null : iso(this.churnedDay),
      exitReason: this.exit?.reason ?? null,
      exitReasonRecorded: this.exit?.recorded ?? false,
      atEnd:
        this.churnedDay === null && p !== null
          ? { cause: p.cause, startedAt: iso(p.startDay), churnsAt: p.churnDay === null ? null : iso(p.churnDay) }
          : null,
      ...(this.treated.length ? { treatments: this.treated } : {}),
    };
  }

  private simulateDay(day: number): void {
    const tenure = day - this.frame.signupDay;
    for (const treatment of this.frame.treatments ?? []) if (treatment.day === day) this.treat(treatment, day);
    if (this.process && day >= this.process.endDay) {
      if (this.process.churnDay !== null) {
        this.cancel(day, this.process.cause);
        return;
      }
      this.process = null;
    }
    if (!this.process && tenure > 0 && this.rng.chance(this.staticHazard * loyaltyFactor(tenure))) {
      this.process = this.startProcess(day, tenure);
    }
    this.activity(day);
    this.billing(day, tenure);
    this.support(day);
    this.surveysAndPlans(day);
  }

  // --- churn processes -------------------------------------------------------------------

  private startProcess(day: number, tenure: number): Process {
    const rng = this.rng;
    // Engagement relative to a typical customer of the same size (1 = typical).
    const engagement = (this.sessionRate / RATES.sessionsPerDay) * Math.exp(this.drift);
    const falseAlarm = rng.chance(falseAlarmChance(engagement, tenure));
    const mix = { ...RATES.causeMix };
    if (tenure < 90) mix.passive *= 1.6;
    if (this.plan === 'starter') mix.involuntary *= 1.2;
    if (this.plan === 'business') mix.support *= 1.5;
    const cause = rng.weighted(mix);
    if (!falseAlarm && rng.chance(RATES.suddenShare)) {
      // Passive churn cannot come unannounced: the sudden kind is an abrupt stop (the champion left
      // the company), then the same quiet weeks before the cancel.
      if (cause === 'passive') return this.abandonProcess(day);
      const churnDay = day + rng.int(1, 4);
      return { cause, startDay: day, churnDay, endDay: churnDay, usage: () => 1 };
    }
    switch (cause) {
      case 'passive':
        return this.passiveProcess(day, falseAlarm);
      case 'involuntary':
        return this.involuntaryProcess(day, falseAlarm);
      case 'voluntary':
        return this.voluntaryProcess(day, falseAlarm);
      case 'support':
        return this.supportProcess(day, falseAlarm);
    }
  }

  /**
   * Usage decays over 3–7 weeks, then 2–4 weeks of silence, then the cancellation. The silence is
   * what makes the cancellation passive churn to a retention team (and to the run summary's
   * analytics, which need ≥ 14 days without use before the cancel: PASSIVE_QUIET_DAYS.min).
   */
  private passiveProcess(day: number, falseAlarm: boolean): Process {
    const length = this.rng.int(21, 49);
    if (falseAlarm) {
      const half = length / 2;
      const usage = (d: number) => {
        const t = d - day;
        return t < half ? 1 - 0.65 * (t / half) : 0.35 + 0.65 * Math.min(1, (t - half) / half);
      };
      return { cause: 'passive', startDay: day, churnDay: null, endDay: day + length, usage };
    }
    const churnDay = day + length + this.rng.int(PASSIVE_QUIET_DAYS.min, PASSIVE_QUIET_DAYS.max);
    const usage = (d: number) => (d - day >= length ? 0 : Math.exp((Math.log(0.04) * (d - day)) / length));
    return { cause: 'passive', startDay: day, churnDay, endDay: churnDay, usage };
  }

  /** Usage stops from one day to the next; the cancellation follows 2–4 quiet weeks later. */
  private abandonProcess(day: number): Process {
    const churnDay = day + this.rng.int(PASSIVE_QUIET_DAYS.min, PASSIVE_QUIET_DAYS.max);
    return { cause: 'passive', startDay: day, churnDay, endDay: churnDay, usage: () => 0 };
  }

  /** A card expires or starts failing: failed payments at the next bill and its retries, 1–3 weeks before churn. */
  private involuntaryProcess(day: number, falseAlarm: boolean): Process {
    const rng = this.rng;
    const cycle = RATES.billingCycleDays;
    const sinceSignup = day + 2 - this.frame.signupDay;
    const firstFailureDay = day + 2 + ((cycle - (sinceSignup % cycle)) % cycle);
    if (rng.chance(0.7)) {
      const expires = new Date((firstFailureDay - rng.int(0, 2)) * DAY_MS);
      const lastOfMonth = new Date(Date.UTC(expires.getUTCFullYear(), expires.getUTCMonth() + 1, 0));
      this.emit('card_expiring', this.at(day, rng.int(6 * 3600, 9 * 3600)), { expiresOn: lastOfMonth.toISOString().slice(0, 10) });
    }
    this.retryDays.clear();
    if (falseAlarm) {
      this.retryDays.add(firstFailureDay);
      const recovered = firstFailureDay + rng.int(1, 5);
      this.pendingPaymentRecovery = recovered;
      return { cause: 'involuntary', startDay: day, churnDay: null, endDay: recovered + 1, usage: () => 1, firstFailureDay };
    }
    for (const offset of [0, 3, 7, 14]) this.retryDays.add(firstFailureDay + offset);
    const churnDay = firstFailureDay + rng.int(10, 21);
    return { cause: 'involuntary', startDay: day, churnDay, endDay: churnDay, usage: () => 0.95, firstFailureDay };
  }

  /** A downgrade (or, on the cheapest plan, a price complaint) a few weeks before leaving. */
  private voluntaryProcess(day: number, falseAlarm: boolean): Process {
    const rng = this.rng;
    const lower = DOWNGRADE[this.plan];
    const at = this.at(day, rng.int(9 * 3600, 17 * 3600));
    if (lower) {
      this.emit('plan_changed', at, { fromPlan: this.plan, toPlan: lower, mrrCents: PLANS[lower].mrrCents });
      this.plan = lower;
    }
    if (!lower || rng.chance(0.4)) {
      const score = falseAlarm ? rng.int(4, 7) : rng.int(1, 5);
      this.emit('survey_response', this.at(day + rng.int(0, 6), rng.int(9 * 3600, 17 * 3600)), {
        score,
        comment: 'too expensive for what we use',
      });
    }
    const churnDay = falseAlarm ? null : day + rng.int(14, 42);
    return { cause: 'voluntary', startDay: day, churnDay, endDay: churnDay ?? day + 28, usage: () => (falseAlarm ? 0.95 : 0.75) };
  }

  /** Urgent tickets that stay open and a poor survey score, then the customer leaves. */
  private supportProcess(day: number, falseAlarm: boolean): Process {
    const rng = this.rng;
    const count = rng.int(1, 3);
    let ticketDay = day;
    for (let i = 0; i < count; i++) {
      const resolved = falseAlarm ? rng.chance(0.85) : rng.chance(0.25);
      const resolveDay = resolved ? ticketDay + (falseAlarm ? rng.int(1, 3) : rng.int(5, 15)) : null;
      this.openTicket(ticketDay, rng.chance(0.7) ? rng.pick(['high', 'urgent'] as const) : 'normal', resolveDay);
      ticketDay += rng.int(3, 10);
    }
    if (rng.chance(0.8)) {
      const score = falseAlarm ? rng.int(4, 8) : rng.int(0, 4);
      this.emit('survey_response', this.at(day + rng.int(5, 15), rng.int(9 * 3600, 17 * 3600)), { score });
    }
    const churnDay = falseAlarm ? null : day + rng.int(18, 40);
    return { cause: 'support', startDay: day, churnDay, endDay: churnDay ?? day + 21, usage: () => (falseAlarm ? 1 : 0.85) };
  }

  /** An outreach that saves the customer turns the churn process under way into a recovery (model/simulate/treatment.ts). */
  private treat(treatment: NonNullable<CustomerFrame['treatments']>[number], day: number): void {
    const p = this.process;
    const saved = p !== null && p.churnDay !== null && day < p.churnDay && outreachSaves(treatment, p.cause, this.frame.treatmentSeed ?? 0);
    this.treated.push({ at: new Date(day * DAY_MS).toISOString(), playbook: treatment.playbook, saved });
    if (!saved || p === null) return;
    // Card updated, usage back, the plan kept, the ticket owned: the signals fade over a week or two.
    if (p.cause === 'involuntary') {
      this.retryDays.clear();
      this.pendingPaymentRecovery = day + 1;
    }
    const from = p.usage(day);
    this.process = { ...p, churnDay: null, endDay: day + 14, usage: (d) => from + ((1 - from) * Math.min(14, d - day)) / 14 };
  }

  private cancel(day: number, cause: ChurnCause): void {
    // The reason is drawn where the free-text reason was (one draw), so every other event stays as it was.
    const reason = drawExitReason(this.rng, cause);
    const ms = this.at(day, this.rng.int(9 * 3600, 18 * 3600));
    const recorded = this.rng.chance(REASON_RECORDED_SHARE);
    this.exit = { reason, recorded };
    this.emit('subscription_cancelled', ms, recorded ? { reasonCode: reason } : {});
    this.cancelledAt = new Date(ms).toISOString();
    this.churnedDay = day;
    this.churnCause = cause;
  }

  // --- everyday behaviour ----------------------------------------------------------------

  private activity(day: number): void {
    const rng = this.rng;
    // A slow mean-reverting wobble: healthy customers have quiet weeks too.
    this.drift = 0.9 * this.drift + rng.normal(0, 0.08);
    const weekday = new Date(day * DAY_MS).getUTCDay();
    const weekFactor = weekday === 0 || weekday === 6 ? RATES.weekendUsage : 1;
    const processUsage = this.process ? this.process.usage(day) : 1;
    const rate = this.sessionRate * this.sizeUsage * weekFactor * processUsage * Math.exp(this.drift);
    const sessions = rng.poisson(rate);
    const features = PLANS[this.plan].features;
    for (let s = 0; s < sessions; s++) {
      const start = rng.int(7 * 3600, 20 * 3600);
      const durationSeconds = rng.int(60, 3600);
      this.emit('session_started', this.at(day, start), { durationSeconds });
      const uses = rng.poisson(RATES.featureUsesPerSession * Math.min(1.5, processUsage + 0.3));
      for (let u = 0; u < uses; u++) {
        // Core features are used most; advanced ones less (breadth of adoption).
        const feature = features[Math.min(features.length - 1, Math.floor(-Math.log(1 - rng.next()) * 2.2))] ?? 'dashboard';
        this.emit('feature_used', this.at(day, start + rng.int(5, durationSeconds)), { feature, quantity: rng.int(1, 5) });
      }
    }
  }

  private billing(day: number, tenure: number): void {
    const rng = this.rng;
    const amountCents = PLANS[this.plan].mrrCents;
    const at = this.at(day, rng.int(3 * 3600, 6 * 3600));
    if (this.pendingPaymentRecovery === day) {
      this.emit('payment_succeeded', at, { amountCents, currency: 'USD' });
      this.pendingPaymentRecovery = null;
    }
    if (this.retryDays.has(day)) {
      const reason = rng.weighted({ expired_card: 0.45, card_declined: 0.35, insufficient_funds: 0.2 });
      this.emit('payment_failed', at, { amountCents, reason });
      return;
    }
    if (tenure === 0 || tenure % RATES.billingCycleDays !== 0) return;
    if (rng.chance(RATES.randomCardExpiring)) {
      const soon = new Date((day + rng.int(10, 40)) * DAY_MS).toISOString().slice(0, 10);
      this.emit('card_expiring', this.at(day - rng.int(5, 20), rng.int(6 * 3600, 9 * 3600)), { expiresOn: soon });
    }
    if (rng.chance(RATES.randomPaymentFailure)) {
      this.emit('payment_failed', at, { amountCents, reason: rng.pick(['insufficient_funds', 'processing_error'] as const) });
      this.pendingPaymentRecovery = day + rng.int(1, 3);
      return;
    }
    this.emit('payment_succeeded', at, { amountCents, currency: 'USD' });
  }

  private support(day: number): void {
    const rng = this.rng;
    for (let i = this.openTickets.length - 1; i >= 0; i--) {
      const ticket = this.openTickets[i];
      if (ticket?.resolveDay === day) {
        this.emit('support_ticket_resolved', this.at(day, rng.int(10 * 3600, 19 * 3600)), { ticketId: ticket.id });
        this.openTickets.splice(i, 1);
      }
    }
    if (rng.chance(RATES.ticketsPerDay * this.sizeUsage)) {
      const resolveDay = rng.chance(0.95) ? day + rng.int(0, 3) : null;
      this.openTicket(day, rng.chance(0.8) ? 'low' : 'normal', resolveDay);
    }
  }

  private openTicket(day: number, priority: 'low' | 'normal' | 'high' | 'urgent', resolveDay: number | null): void {
    const id = `${this.frame.customerId}-t${++this.tickets}`;
    const openedAt = this.rng.int(8 * 3600, 16 * 3600);
    this.emit('support_ticket_opened', this.at(day, openedAt), { ticketId: id, priority });
    if (resolveDay === day) {
      this.emit('support_ticket_resolved', this.at(day, openedAt + 3600), { ticketId: id });
    } else {
      this.openTickets.push({ id, resolveDay });
    }
  }

  private surveysAndPlans(day: number): void {
    const rng = this.rng;
    if (rng.chance(RATES.surveysPerDay)) {
      const score = Math.max(0, Math.min(10, Math.round(rng.normal(8.2, 1.5))));
      this.emit('survey_response', this.at(day, rng.int(9 * 3600, 17 * 3600)), { score });
    }
    const higher = UPGRADE[this.plan];
    if (!this.process && higher && rng.chance(RATES.upgradesPerDay)) {
      this.emit('plan_changed', this.at(day, rng.int(9 * 3600, 17 * 3600)), {
        fromPlan: this.plan,
        toPlan: higher,
        mrrCents: PLANS[higher].mrrCents,
      });
      this.plan = higher;
    }
  }

  // --- event construction ----------------------------------------------------------------

  /** Instant `seconds` into `day` (ms since the epoch). */
  private at(day: number, seconds: number): number {
    return day * DAY_MS + seconds * 1000 + this.rng.int(0, 999);
  }

  private emit<T extends EventType>(type: T, ms: number, properties: EventOf<T>['properties']): void {
    // Nothing happens after the window (the simulated "now") or before the customer signed up.
    if (ms >= this.frame.endDay * DAY_MS || ms < this.signupMs) return;
    const event = {
      eventId: `${this.frame.customerId}-e${++this.seq}`,
      customerId: this.frame.customerId,
      type,
      occurredAt: new Date(ms).toISOString(),
      properties,
    } as EventOf<T>;
    this.events.push(event);
  }
}
