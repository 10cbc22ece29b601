// Requests Node's HTTP parser refuses before the app sees them (found by the
// fault suite's fuzzing: a bare "431" with no body) answer a problem document.
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer } from '../src/cli/serve.js';
import { built } from './client-world.js';
import { ok } from './e2e-world.js';

const work = mkdtempSync(join(tmpdir(), 'concordat-parser-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    const sock = net.connect(port, '127.0.0.1', () => sock.write(request));
    sock.on('data', (b: Buffer) => (out += b.toString()));
    sock.on('close', () => resolve(out));
    sock.on('error', reject);
  });
}

describe.runIf(built)('the coordinator behind Node\'s HTTP parser', () => {
it('oversized headers and malformed requests get an RFC 9457 problem, not a bare status line', async () => {
  const data = join(work, 'coord');
  await ok(['coordinator', 'init', '--data', data]);
  const ac = new AbortController();
  const server = await startServer({ data, host: '127.0.0.1', port: 0, signal: ac.signal, out: () => {}, integrityEveryMs: 0 });
  try {
    const port = Number(new URL(server.url).port);
    const big = await raw(port, `GET /v1/hits HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    expect(big).toMatch(/content-type: application\/problem\+json/i);
    expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431, type: 'urn:concordat:problem:validation' });
    const bad = await raw(port, 'NOT HTTP AT ALL\r\n\r\n');
    expect(bad).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(bad.slice(bad.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400 });
  } finally {
    ac.abort();
    await server.closed;
  }
});
});
