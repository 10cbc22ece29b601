// Key files: lower-case hex of the key bytes and a newline. Secret key files
// are created 0600 inside a 0700 directory and never overwritten.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { bytesToHex, hexToBytes } from '../../protocol/bytes.js';

export function ensurePrivateDir(dir: string): void {
  if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
}

export function writeSecretKeyFile(path: string, key: Uint8Array): void {
  writeFileSync(path, `${bytesToHex(key)}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
}

/** Read a hex key file of exactly `bytes` bytes; the error names the file, never its content. */
export function readKeyFile(path: string, bytes: number, what: string): Uint8Array {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`cannot read ${what} file ${path}`);
  }
  const hex = text.trim();
  if (!/^[0-9a-fA-F]*$/.test(hex) || hex.length !== 2 * bytes) {
    throw new Error(`${what} file ${path} must hold ${bytes} bytes as hex`);
  }
  return hexToBytes(hex.toLowerCase());
}
