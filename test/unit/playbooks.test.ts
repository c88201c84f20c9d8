import { describe, expect, it } from 'vitest';
import {
  choosePlaybook,
  DEFAULT_PLAYBOOK,
  PLAYBOOK_RULES,
  PLAYBOOKS,
  playbookDescription,
  scorePlaybooks,
} from '../../model/outreach/playbooks.ts';
import { driver } from './outreachFactories.ts';

const established = { tenureDays: 200, mrrCents: 5_000 };

describe('choosePlaybook', () => {
  it.each([
    ['payments', 'payment_recovery'],
    ['support', 'support_escalation'],
    ['survey', 'support_escalation'],
    ['plan', 'offer'],
    ['activity', 're_engagement'],
  ] as const)('maps a %s driver to %s', (family, expected) => {
    // Prepare
    const customer = { ...established, drivers: [driver(family, 0.6)] };
    // Act
    const playbook = choosePlaybook(customer);
    // Assess
    expect(playbook).toBe(expected);
  });

  it('weights families by contribution: two activity drivers outweigh one weaker payments driver', () => {
    const customer = { ...established, drivers: [driver('payments', 0.5), driver('activity', 0.3), driver('activity', 0.3)] };
    expect(choosePlaybook(customer)).toBe('re_engagement');
  });

  it('lets a strong payments driver win over weaker activity drivers', () => {
    const customer = { ...established, drivers: [driver('payments', 0.9), driver('activity', 0.3), driver('activity', 0.3)] };
    expect(choosePlaybook(customer)).toBe('payment_recovery');
  });

  it('gives new customers with low adoption onboarding_education, and established ones re_engagement', () => {
    const drivers = [driver('adoption', 0.8)];
    expect(choosePlaybook({ drivers, tenureDays: 20, mrrCents: 5_000 })).toBe('onboarding_education');
    expect(choosePlaybook({ drivers, tenureDays: 400, mrrCents: 5_000 })).toBe('re_engagement');
  });

  it('gives loyalty_reward only to long-tenure, high-value customers', () => {
    const drivers = [driver('tenure', 0.5), driver('value', 0.5)];
    expect(choosePlaybook({ drivers, tenureDays: 800, mrrCents: 50_000 })).toBe('loyalty_reward');
    // a cheap customer: value drivers point to an offer instead
    expect(choosePlaybook({ drivers, tenureDays: 800, mrrCents: 1_000 })).toBe('offer');
  });

  it('breaks an exact tie by rank: payment_recovery before support_escalation', () => {
    const customer = { ...established, drivers: [driver('support', 0.4), driver('payments', 0.4)] };
    expect(choosePlaybook(customer)).toBe('payment_recovery');
  });

  it('ignores drivers that lower risk (negative contribution)', () => {
    const customer = { ...established, drivers: [driver('payments', -2), driver('support', 0.1)] };
    expect(choosePlaybook(customer)).toBe('support_escalation');
  });

  it('falls back to the default playbook when no driver raises risk or none has a known family weight', () => {
    expect(choosePlaybook({ ...established, drivers: [] })).toBe(DEFAULT_PLAYBOOK);
    expect(choosePlaybook({ ...established, drivers: [driver('payments', -0.3)] })).toBe(DEFAULT_PLAYBOOK);
    expect(choosePlaybook({ ...established, drivers: [] }, { defaultPlaybook: 'offer' })).toBe('offer');
  });

  it('does not put customers with unknown tenure into tenure-restricted playbooks', () => {
    const scores = scorePlaybooks({ drivers: [driver('adoption', 1)], tenureDays: null, mrrCents: null });
    expect(scores.has('onboarding_education')).toBe(false);
    expect(scores.has('loyalty_reward')).toBe(false);
  });
});

describe('PLAYBOOK_RULES', () => {
  it('has one rule with a human description and a unique rank for every playbook', () => {
    expect(PLAYBOOK_RULES.map((r) => r.playbook).sort()).toEqual([...PLAYBOOKS].sort());
    expect(new Set(PLAYBOOK_RULES.map((r) => r.rank)).size).toBe(PLAYBOOK_RULES.length);
    for (const playbook of PLAYBOOKS) expect(playbookDescription(playbook).length).toBeGreaterThan(30);
  });
});
