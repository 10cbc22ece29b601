// Engine selection: the fast engine by default; CONCORDAT_ENGINE=reference
// (or an explicit name) selects the audited reference engine.
import { loadFastEngine } from './fast.js';
import { referenceEngine } from './reference.js';
import { ENGINE_NAMES, type Engine, type EngineName } from './types.js';

export * from './types.js';
export { referenceEngine } from './reference.js';
export { loadFastEngine } from './fast.js';

export function isEngineName(s: string): s is EngineName {
  return (ENGINE_NAMES as readonly string[]).includes(s);
}

/** Resolve an engine name, falling back to the environment then to `fast`. */
export function engineNameFrom(explicit?: string, env?: string): EngineName {
  const name = explicit ?? env ?? 'fast';
  if (!isEngineName(name)) throw new Error(`engine: unknown engine "${name}" (expected one of ${ENGINE_NAMES.join(', ')})`);
  return name;
}

export async function loadEngine(name: EngineName = 'fast'): Promise<Engine> {
  return name === 'reference' ? referenceEngine : loadFastEngine();
}
