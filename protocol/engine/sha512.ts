// SHA-512 for the engines' expand_message_xmd (RFC 9380 §5.3.1) and Token.
// On Node, node:crypto's one-shot hash runs OpenSSL's native SHA-512 (several
// times faster than the portable @noble/hashes code); elsewhere (Workers,
// browsers) the portable code runs. node:crypto is reached through
// process.getBuiltinModule at run time so that no bundle for workerd or the
// browser ever sees a Node import.
import { sha512 as nobleSha512 } from '@noble/hashes/sha2.js';
import type { Sha512Into } from '../hash-to-group.js';

export const portableSha512: Sha512Into = (out, data) => out.set(nobleSha512(data));

type NodeCrypto = typeof import('node:crypto');
interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?: (id: string) => unknown;
}

/** A Node built-in module, or undefined outside Node (or on a Node too old to expose getBuiltinModule). */
export function nodeBuiltin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (typeof proc?.versions?.node !== 'string' || typeof proc.getBuiltinModule !== 'function') return undefined;
  try {
    return (proc.getBuiltinModule(id) as T | undefined) ?? undefined;
  } catch {
    return undefined;
  }
}

let cached: Sha512Into | undefined;

/** node:crypto's SHA-512 where present, else the portable one; checked once against the portable one. */
export function platformSha512(): Sha512Into {
  if (cached) return cached;
  let h: Sha512Into = portableSha512;
  const c = nodeBuiltin<NodeCrypto>('node:crypto');
  if (c && typeof c.hash === 'function') {
    const hash = c.hash;
    h = (out, data) => out.set(hash('sha512', data, 'buffer'));
  } else if (c && typeof c.createHash === 'function') {
    const createHash = c.createHash;
    h = (out, data) => out.set(createHash('sha512').update(data).digest());
  }
  if (h !== portableSha512) {
    const probe = new TextEncoder().encode('abc');
    const a = new Uint8Array(64);
    const b = new Uint8Array(64);
    h(a, probe);
    portableSha512(b, probe);
    if (!a.every((x, i) => x === b[i])) h = portableSha512;
  }
  cached = h;
  return h;
}
