import Table from 'cli-table3';
import type { Command } from 'commander';
import { z } from 'zod';
import { createAwsClients } from '../../adapters/aws/clients.ts';
import { BaseEnv, parseEnv } from '../../adapters/aws/env.ts';
import { dataDirOption, jsonOption, withLocalStack } from '../options.ts';

const ModelsOptions = z.object({ dataDir: z.string().min(1), json: z.boolean().default(false) });

async function listModels(raw: unknown): Promise<void> {
  const o = ModelsOptions.parse(raw);
  await withLocalStack(o.dataDir, async () => {
    // Loaded on use: the registry brings TF.js, which no other command needs to start.
    const { S3ModelRegistry } = await import('../../adapters/aws/modelRegistry.ts');
    const registry = new S3ModelRegistry(createAwsClients().s3, parseEnv(BaseEnv).BUCKET_NAME);
    const models = await registry.list();
    if (o.json) {
      console.log(JSON.stringify(models, null, 2));
      return;
    }
    if (models.length === 0) {
      console.log('no models yet: run `churnguard train`');
      return;
    }
    const table = new Table({
      head: ['', 'version', 'kind', 'created', 'ROC AUC', 'PR AUC', 'ECE', 'decision'],
      colWidths: [3, 31, 10, 26, 9, 9, 8, 60],
      wordWrap: true,
    });
    for (const m of models) {
      table.push([
        m.champion ? '★' : '',
        m.version,
        m.kind,
        m.createdAt,
        m.metrics.rocAuc.toFixed(4),
        m.metrics.prAuc.toFixed(4),
        m.metrics.ece.toFixed(4),
        m.reason,
      ]);
    }
    console.log(table.toString());
    const champion = models.find((m) => m.champion);
    console.log(
      champion ? `champion: ${champion.version} (${champion.kind === 'logistic' ? 'logistic-regression baseline' : 'MLP'})` : 'no champion',
    );
  });
}

/** `churnguard models`: the registry's versions, newest last, with the champion marked. */
export function register(program: Command): void {
  program
    .command('models')
    .description('list registered models (kind mlp or logistic baseline), their validation metrics and promotion decisions (★ = champion)')
    .addOption(dataDirOption())
    .addOption(jsonOption())
    .action((options: unknown) => listModels(options));
}
