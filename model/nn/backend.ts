import { createRequire } from 'node:module';
import path from 'node:path';
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

async function tryWasm(): Promise<boolean> {
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    // The .wasm binaries ship in the package's dist/ folder, beside its main entry.
    const require = createRequire(import.meta.url);
    wasm.setWasmPaths(`${path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm'))}${path.sep}`);
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
