import { Command } from 'commander';
import { registerCommands } from './commands/index.ts';

const program = new Command()
  .name('churnguard')
  .description('Churn prediction for subscription businesses: ingest events, train, score, and queue outreach.')
  .showHelpAfterError()
  .configureOutput({ outputError: (message, write) => write(`churnguard: ${message.replace(/^error: /, '')}`) });

registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(`churnguard: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
