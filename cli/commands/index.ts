import type { Command } from 'commander';
import * as demo from './demo.ts';
import * as events from './events.ts';
import * as features from './features.ts';
import * as importData from './import.ts';
import * as ingest from './ingest.ts';
import * as models from './models.ts';
import * as outreach from './outreach.ts';
import * as report from './report.ts';
import * as run from './run.ts';
import * as score from './score.ts';
import * as serve from './serve.ts';
import * as simulate from './simulate.ts';
import * as train from './train.ts';

/**
 * Every subcommand of `churnguard`, one module each. A module exports `register(program)`.
 * Keep one line per command so that commands can be added independently.
 */
const commandModules: Array<{ register(program: Command): void }> = [
  run,
  outreach,
  serve,
  ingest,
  events,
  simulate,
  report,
  demo,
  features,
  importData,
  train,
  score,
  models,
];

export function registerCommands(program: Command): void {
  for (const module of commandModules) module.register(program);
}
