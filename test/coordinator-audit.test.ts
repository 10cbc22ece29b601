import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { bytesToHex, concatBytes, utf8 } from '../protocol/bytes.js';
import { AUDIT_GENESIS_HASH, canonicalJSON, chainHash, verifyAuditChain } from '../src/audit.js';
import { addAgreement, epochKeyPair, makeHarness, newSigner, publishKey } from './coordinator-harness.js';

describe('canonical JSON and the hash chain', () => {
  it('sorts keys recursively and writes no whitespace', () => {
    expect(canonicalJSON({ b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } })).toBe('{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
    expect(() => canonicalJSON({ a: Number.NaN })).toThrow();
  });

  it('hash_1 = SHA-256(32 zero bytes ‖ canonicalJSON(event))', () => {
    const event = { seq: 1, at: '2026-03-10T12:00:00.000Z', actor: 'admin', action: 'agency.added', subject: 'ES-CNP', outcome: 'ok', detail: { country: 'ESP' } };
    const expected = sha256(
      concatBytes(
        new Uint8Array(32),
        utf8('{"action":"agency.added","actor":"admin","at":"2026-03-10T12:00:00.000Z","detail":{"country":"ESP"},"outcome":"ok","seq":1,"subject":"ES-CNP"}'),
      ),
    );
    expect(bytesToHex(chainHash(AUDIT_GENESIS_HASH, event))).toBe(bytesToHex(expected));
  });
});

describe('audit log in the store', () => {
  it('records state changes and refusals, and the chain verifies', async () => {
    const h = await makeHarness();
    try {
      const es = await h.addAgency('ES-CNP', 'ESP');
      await h.addAgency('PT-PJ', 'PRT');
      await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'] });
      await publishKey(h, es, epochKeyPair());
      await h.send(newSigner('XX-GHOST'), 'GET', '/v1/me');
      await h.send(es, 'GET', '/v1/admin/agreements');
      await h.send(es, 'GET', '/v1/results');
      const entries = await h.store.readAudit(0, 1000);
      expect(entries.map((e) => e.action)).toEqual([
        'agency.added',
        'agency.added',
        'agreement.added',
        'epoch_key.published',
        'auth.refused',
        'authz.refused',
        'results.served',
      ]);
      expect(entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(verifyAuditChain(entries)).toEqual({ ok: true, count: 7 });
      // Paging reads the same chain.
      expect([...(await h.store.readAudit(0, 3)), ...(await h.store.readAudit(3, 1000))]).toEqual(entries);
    } finally {
      await h.close();
    }
  });

  it('keeps one unbroken chain under concurrent requests', async () => {
    const h = await makeHarness();
    try {
      const signers = await Promise.all(['ES-CNP', 'PT-PJ', 'FR-OCRTEH', 'IT-DCSA'].map((id, i) => h.addAgency(id, ['ESP', 'PRT', 'FRA', 'ITA'][i] as string)));
      // Refusals and state changes from many requests at once all append to the chain.
      await Promise.all(signers.flatMap((s) => [h.send(s, 'GET', '/v1/results'), h.send(s, 'GET', '/v1/admin/agreements'), publishKey(h, s, epochKeyPair())]));
      const entries = await h.store.readAudit(0, 1000);
      expect(entries).toHaveLength(4 + 12);
      expect(entries.map((e) => e.seq)).toEqual(entries.map((_, i) => i + 1));
      expect(verifyAuditChain(entries)).toEqual({ ok: true, count: 16 });
    } finally {
      await h.close();
    }
  });
});
