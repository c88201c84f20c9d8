import type { FeatureDefinition, SentenceTemplate } from './featureDefinition.ts';
import { currentMrrCents, mrrCents90dAgo } from './snapshot.ts';
import { DAY_MS } from './time.ts';

const days = (fromMs: number, toMs: number) => (toMs - fromMs) / DAY_MS;
const count = (singular: string, plural: string, tail: string): SentenceTemplate => ({
  cases: [
    ['zero', `no ${plural} ${tail}`],
    ['one', `1 ${singular} ${tail}`],
    ['any', `{value} ${plural} ${tail}`],
  ],
});

/** The fixed features, in column order. Custom and profile features are added from the data. */
export const FEATURE_DEFINITIONS: readonly FeatureDefinition[] = [
  {
    name: 'activity.days_since_last_activity',
    family: 'activity',
    windowDays: null,
    aggregation: 'days_since',
    description: 'Days since the last activity event (session, feature use, custom event or successful payment)',
    sentence: {
      cases: [
        ['missing', 'no activity on record'],
        ['any', 'last active {duration} ago'],
      ],
    },
    value: (s) => days(s.lastActivityMs, s.cutoffMs),
  },
  {
    name: 'activity.days_since_last_session',
    family: 'activity',
    windowDays: null,
    aggregation: 'days_since',
    description: 'Days since the last session',
    sentence: {
      cases: [
        ['missing', 'never started a session'],
        ['any', 'last session {duration} ago'],
      ],
    },
    value: (s) => days(s.lastSessionMs, s.cutoffMs),
  },
  {
    name: 'activity.sessions_7d',
    family: 'activity',
    windowDays: 7,
    aggregation: 'count',
    description: 'Sessions in the last 7 days',
    sentence: count('session', 'sessions', 'in the last 7 days'),
    value: (s) => s.sessions7d,
  },
  {
    name: 'activity.sessions_30d',
    family: 'activity',
    windowDays: 30,
    aggregation: 'count',
    description: 'Sessions in the last 30 days',
    sentence: count('session', 'sessions', 'in the last 30 days'),
    value: (s) => s.sessions30d,
  },
  {
    name: 'activity.active_days_30d',
    family: 'activity',
    windowDays: 30,
    aggregation: 'distinct_count',
    description: 'Days (UTC) with at least one activity event in the last 30 days',
    sentence: {
      cases: [
        ['zero', 'not active on any of the last 30 days'],
        ['any', 'active on {value} of the last 30 days'],
      ],
    },
    value: (s) => s.activeDays30d,
  },
  {
    name: 'activity.usage_trend_3w',
    family: 'activity',
    windowDays: 42,
    aggregation: 'ratio',
    description: 'Activity events in the last 3 weeks ÷ activity events in the 3 weeks before (missing when there were none before)',
    sentence: {
      cases: [
        ['missing', 'no activity in the previous 3 weeks to compare with'],
        ['zero', 'usage stopped in the last 3 weeks'],
        ['steady', 'usage was steady against the previous 3 weeks'],
        ['below1', 'usage fell {percentDown}% against the previous 3 weeks'],
        ['any', 'usage rose {percentUp}% against the previous 3 weeks'],
      ],
    },
    value: (s) => (s.activityPrevious3w === 0 ? Number.NaN : s.activityLast3w / s.activityPrevious3w),
  },
  {
    name: 'adoption.distinct_features_30d',
    family: 'adoption',
    windowDays: 30,
    aggregation: 'distinct_count',
    description: 'Different features used in the last 30 days',
    sentence: {
      cases: [
        ['zero', 'used no features in the last 30 days'],
        ['one', 'used 1 feature in the last 30 days'],
        ['any', 'used {value} different features in the last 30 days'],
      ],
    },
    value: (s) => s.distinctFeatures30d,
  },
  {
    name: 'adoption.feature_uses_30d',
    family: 'adoption',
    windowDays: 30,
    aggregation: 'sum',
    description: 'Feature uses (sum of quantities) in the last 30 days',
    sentence: count('feature use', 'feature uses', 'in the last 30 days'),
    value: (s) => s.featureUses30d,
  },
  {
    name: 'payments.failed_14d',
    family: 'payments',
    windowDays: 14,
    aggregation: 'count',
    description: 'Failed payments in the last 14 days',
    sentence: count('failed payment', 'failed payments', 'in the last 14 days'),
    value: (s) => s.failedPayments14d,
  },
  {
    name: 'payments.failed_90d',
    family: 'payments',
    windowDays: 90,
    aggregation: 'count',
    description: 'Failed payments in the last 90 days',
    sentence: count('failed payment', 'failed payments', 'in the last 90 days'),
    value: (s) => s.failedPayments90d,
  },
  {
    name: 'payments.unresolved_failures',
    family: 'payments',
    windowDays: null,
    aggregation: 'count',
    description: 'Failed payments since the last successful payment (not yet recovered)',
    sentence: {
      cases: [
        ['zero', 'no unrecovered failed payment'],
        ['one', 'a failed payment not yet recovered'],
        ['any', '{value} failed payments not yet recovered'],
      ],
    },
    value: (s) => s.failuresSinceSuccess,
  },
  {
    name: 'payments.days_until_card_expiry',
    family: 'payments',
    windowDays: null,
    aggregation: 'days_until',
    description: 'Days until the card of the latest expiry notice expires (negative: expired; missing: no notice, or replaced since)',
    sentence: {
      cases: [
        ['missing', 'no card expiry pending'],
        ['negative', 'card expired {absDuration} ago'],
        ['zero', 'card expires today'],
        ['any', 'card expires in {duration}'],
      ],
    },
    value: (s) => days(s.cutoffMs, s.cardExpiresMs),
  },
  {
    name: 'payments.card_expiring_30d',
    family: 'payments',
    windowDays: 30,
    aggregation: 'flag',
    description: '1 when the card on file expires within 30 days or has expired, else 0',
    sentence: {
      cases: [
        ['one', 'card expires within 30 days'],
        ['any', 'card not expiring within 30 days'],
      ],
    },
    value: (s) => (days(s.cutoffMs, s.cardExpiresMs) <= 30 ? 1 : 0),
  },
  {
    name: 'support.tickets_30d',
    family: 'support',
    windowDays: 30,
    aggregation: 'count',
    description: 'Support tickets opened in the last 30 days',
    sentence: count('support ticket', 'support tickets', 'in the last 30 days'),
    value: (s) => s.tickets30d,
  },
  {
    name: 'support.tickets_90d',
    family: 'support',
    windowDays: 90,
    aggregation: 'count',
    description: 'Support tickets opened in the last 90 days',
    sentence: count('support ticket', 'support tickets', 'in the last 90 days'),
    value: (s) => s.tickets90d,
  },
  {
    name: 'support.open_tickets',
    family: 'support',
    windowDays: null,
    aggregation: 'count',
    description: 'Support tickets opened and not resolved before the cutoff',
    sentence: {
      cases: [
        ['zero', 'no open support tickets'],
        ['one', '1 support ticket still open'],
        ['any', '{value} support tickets still open'],
      ],
    },
    value: (s) => s.openTickets,
  },
  {
    name: 'support.mean_resolution_hours',
    family: 'support',
    windowDays: 90,
    aggregation: 'mean',
    description: 'Mean hours from opening to resolution of tickets resolved in the last 90 days',
    sentence: {
      cases: [
        ['missing', 'no support tickets resolved in the last 90 days'],
        ['any', 'support tickets took {value} hours to resolve on average'],
      ],
    },
    value: (s) => (s.resolved90d === 0 ? Number.NaN : s.resolutionHoursSum90d / s.resolved90d),
  },
  {
    name: 'survey.last_score',
    family: 'survey',
    windowDays: null,
    aggregation: 'latest',
    description: 'Score (0–10) of the latest survey response',
    sentence: {
      cases: [
        ['missing', 'no survey answered'],
        ['any', 'last survey score was {value} out of 10'],
      ],
    },
    value: (s) => s.lastSurveyScore,
  },
  {
    name: 'survey.days_since_last',
    family: 'survey',
    windowDays: null,
    aggregation: 'days_since',
    description: 'Days since the latest survey response',
    sentence: {
      cases: [
        ['missing', 'no survey answered'],
        ['any', 'last survey answered {duration} ago'],
      ],
    },
    value: (s) => days(s.lastSurveyMs, s.cutoffMs),
  },
  {
    name: 'plan.downgrades_90d',
    family: 'plan',
    windowDays: 90,
    aggregation: 'count',
    description: 'Plan changes to a lower MRR in the last 90 days',
    sentence: {
      cases: [
        ['zero', 'no downgrades in the last 90 days'],
        ['one', 'downgraded once in the last 90 days'],
        ['any', 'downgraded {value} times in the last 90 days'],
      ],
    },
    value: (s) => s.downgrades90d,
  },
  {
    name: 'plan.mrr_change_90d_pct',
    family: 'plan',
    windowDays: 90,
    aggregation: 'percent_change',
    description: 'Change of MRR against 90 days before, in % (missing when there was no MRR then)',
    sentence: {
      cases: [
        ['missing', 'no earlier price to compare with'],
        ['zero', 'monthly price unchanged over the last 90 days'],
        ['negative', 'monthly price fell {abs}% over the last 90 days'],
        ['any', 'monthly price rose {value}% over the last 90 days'],
      ],
    },
    value: (s) => {
      const before = mrrCents90dAgo(s);
      const now = currentMrrCents(s);
      return before > 0 && !Number.isNaN(now) ? ((now - before) / before) * 100 : Number.NaN;
    },
  },
  {
    name: 'value.mrr',
    family: 'value',
    windowDays: null,
    aggregation: 'latest',
    description: 'Monthly recurring revenue in currency units (subscription events, else a profile attribute such as MonthlyCharges)',
    sentence: {
      cases: [
        ['missing', 'monthly revenue unknown'],
        ['zero', 'pays nothing per month'],
        ['any', 'pays {money} per month'],
      ],
    },
    value: (s) => currentMrrCents(s) / 100,
  },
  {
    name: 'value.paid_90d',
    family: 'value',
    windowDays: 90,
    aggregation: 'sum',
    description: 'Successful payments in the last 90 days, in currency units',
    sentence: {
      cases: [
        ['zero', 'paid nothing in the last 90 days'],
        ['any', 'paid {money} in the last 90 days'],
      ],
    },
    value: (s) => s.paidCents90d / 100,
  },
  {
    name: 'tenure.days',
    family: 'tenure',
    windowDays: null,
    aggregation: 'days_since',
    description: 'Days since the first subscription started (or, without one, since the first event)',
    sentence: {
      cases: [
        ['missing', 'tenure unknown'],
        ['any', 'tenure is {duration}'],
      ],
    },
    value: (s) => days(Number.isNaN(s.subscriptionStartMs) ? s.firstEventMs : s.subscriptionStartMs, s.cutoffMs),
  },
];

/** Name of the tenure column, for callers that report tenure (ScoredCustomer.tenureDays). */
export const TENURE_DAYS_FEATURE = 'tenure.days';

/** Column name of a custom event count: `custom.<name>.30d`. */
export const customFeatureName = (eventName: string) => `custom.${eventName}.30d`;
/** Column name of a profile attribute: `profile.<attribute>`. */
export const profileFeatureName = (attribute: string) => `profile.${attribute}`;

export const CUSTOM_SENTENCE: SentenceTemplate = {
  cases: [
    ['zero', 'no {name} events in the last 30 days'],
    ['one', '1 {name} event in the last 30 days'],
    ['any', '{value} {name} events in the last 30 days'],
  ],
};
export const PROFILE_SENTENCE: SentenceTemplate = {
  cases: [
    ['missing', '{name} is unknown'],
    ['any', '{name} is {value}'],
  ],
};

const BY_NAME = new Map(FEATURE_DEFINITIONS.map((d) => [d.name, d]));
/** The definition of a fixed feature, undefined for custom, profile and unknown names. */
export const featureDefinition = (name: string): FeatureDefinition | undefined => BY_NAME.get(name);
