// Engine selection: the native engine (system libsodium) where it loads, else
// the WebAssembly one; CONCORDAT_ENGINE (or an explicit name) selects any
// engine, `reference` being the audited @noble/curves yardstick.
import { loadNativeEngine, nativeAvailable } from './native.js';
import { referenceEngine } from './reference.js';
import { ENGINE_NAMES, type Engine, type EngineName } from './types.js';

export * from './types.js';
export { referenceEngine } from './reference.js';
export { loadNativeEngine, nativeAvailable } from './native.js';

/**
 * The libsodium WebAssembly engine, its module loaded on first use: where the
 * native engine runs, a process never pays for compiling the WebAssembly.
 */
export async function loadFastEngine(): Promise<Engine> {
  return (await import('./fast.js')).loadFastEngine();
}

export function isEngineName(s: string): s is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(s);
}

/** The engine used when none is named: native where it can run, else fast. */
export function defaultEngineName(): EngineName {
  return nativeAvailable() ? 'native' : 'fast';
}

/** Resolve an engine name, falling back to the environment then to the default engine. */
export function engineNameFrom(explicit?: string, env?: string): EngineName {
  const name = explicit ?? (env && env.length > 0 ? env : undefined) ?? defaultEngineName();
  if (!isEngineName(name)) throw new Error(`engine: unknown engine "${name}" (expected one of ${ENGINE_NAMES.join(', ')})`);
  return name;
}

export async function loadEngine(name: EngineName = defaultEngineName()): Promise<Engine> {
  switch (name) {
    case 'reference':
      return referenceEngine;
    case 'native':
      return loadNativeEngine();
    case 'fast':
      return loadFastEngine();
  }
}

/** Every engine that can run here, reference first: what the vector checks compare. */
export async function availableEngines(): Promise<Engine[]> {
  const out: Engine[] = [referenceEngine, await loadFastEngine()];
  if (nativeAvailable()) out.push(loadNativeEngine());
  return out;
}
