import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

/** The browser builds of Vega, Vega-Lite and vega-embed, in load order, as JavaScript source. */
export interface VegaScripts {
  vega: string;
  vegaLite: string;
  vegaEmbed: string;
}

const require = createRequire(import.meta.url);

/**
 * The packages export only their module entry, so find each package's build folder from that
 * entry and read the minified UMD bundle beside it (the file its `unpkg` field names).
 */
function readBuild(pkg: string, file: string): string {
  const entry = require.resolve(pkg);
  return readFileSync(path.join(path.dirname(entry), file), 'utf8');
}

let cached: VegaScripts | undefined;

/** Reads the three bundles from node_modules once (≈ 830 KB): the report embeds them to work offline. */
export function loadVegaScripts(): VegaScripts {
  cached ??= {
    vega: readBuild('vega', 'vega.min.js'),
    vegaLite: readBuild('vega-lite', 'vega-lite.min.js'),
    vegaEmbed: readBuild('vega-embed', 'vega-embed.min.js'),
  };
  return cached;
}
