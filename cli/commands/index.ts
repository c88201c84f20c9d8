import type { Command } from 'commander';

/**
 * Every subcommand of `churnguard`, one module each. A module exports `register(program)`.
 * Keep one line per command so that commands can be added independently.
 */
const commandModules: Array<{ register(program: Command): void }> = [
];

export function registerCommands(program: Command): void {
  for (const module of commandModules) module.register(program);
}
