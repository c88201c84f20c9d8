import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

/** The TF.js backends churnguard runs on, fastest first. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';

let chosen: Promise<string> | undefined;

async function tryTfjsNode(): Promise<boolean> {
  try {
    // An optionalDependency: absent when its native download failed. Importing it registers 'tensorflow'.
    const name = '@tensorflow/tfjs-node';
    await import(/* @vite-ignore */ name);
    return await tf.setBackend('tensorflow');
  } catch {
    return false;
  }
}

/** One of the binaries the wasm backend loads; its folder holds the others. */
export const WASM_MARKER_FILE = 'tfjs-backend-wasm-simd.wasm';

/**
 * The folder holding the backend's .wasm files: beside this module when it is a bundle (the job's
 * zip asset and container image copy them next to `index.mjs`), else the package's own dist/ folder.
 */
export function wasmBinariesFolder(moduleUrl: string = import.meta.url): string | undefined {
  const candidates = [path.dirname(fileURLToPath(moduleUrl))];
  try {
    candidates.push(path.dirname(createRequire(moduleUrl).resolve('@tensorflow/tfjs-backend-wasm')));
  } catch {
    // Bundled without node_modules: only the folder of the bundle can hold them.
  }
  return candidates.find((folder) => existsSync(path.join(folder, WASM_MARKER_FILE)));
}

async function tryWasm(): Promise<boolean> {
  try {
    const folder = wasmBinariesFolder();
    if (folder === undefined) return false;
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    wasm.setWasmPaths(`${folder}${path.sep}`);
    return await tf.setBackend('wasm');
  } catch {
    return false;
  }
}

async function choose(log: (message: string) => void): Promise<string> {
  tf.enableProdMode();
  let backend: string = 'cpu';
  if (await tryTfjsNode()) backend = 'tensorflow';
  else if (await tryWasm()) backend = 'wasm';
  else await tf.setBackend('cpu');
  await tf.ready();
  const simd = backend === 'wasm' ? ` (SIMD ${tf.env().getBool('WASM_HAS_SIMD_SUPPORT') ? 'on' : 'off'})` : '';
  log(`TF.js backend: ${backend}${simd}`);
  return backend;
}

/**
 * Selects the fastest TF.js backend that loads here: tfjs-node (native libtensorflow), else
 * WebAssembly with SIMD, else plain JavaScript. Runs once per process and logs the choice once;
 * later calls return the same answer.
 *
 * @example
 * const backend = await initBackend(); // 'wasm' on a machine without libtensorflow
 */
export async function initBackend(log: (message: string) => void = (m) => console.error(m)): Promise<string> {
  chosen ??= choose(log);
  const backend = await chosen;
  // Someone may have switched backends since (tests compare cpu and wasm): switch back.
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
  return backend;
}
