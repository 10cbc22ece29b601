// The governance scenario shared by the portable suite
// (coordinator-governance.test.ts) and the Node-only tests on the SQLite
// file (coordinator-sqlite.test.ts): ES and PT after a complete nightly run of
// a reveal agreement, FR registered without one, and a full targeted query
// round trip.
import { expect } from 'vitest';
import { bytesToHex } from '../protocol/bytes.js';
import type { Engine } from '../protocol/engine/index.js';
import { addAgreement, type Harness, type Signer } from './coordinator-harness.js';
import { emails, SimAgency, type Item } from './coordinator-sim.js';

export const PAIR = 'es-pt~ES-CNP~PT-PJ';
export const shared = emails('shared.suspect', 6, 'example.org');
export const ptOnly = emails('pt.only', 30, 'pj.example');
export const esOnly = emails('es.only', 30, 'policia.example');

export interface Scene {
  h: Harness;
  es: SimAgency;
  pt: SimAgency;
  fr: Signer;
}

export async function setupScene(h: Harness, engine: Engine, agreement: Record<string, unknown> = {}): Promise<Scene> {
  const es = new SimAgency(h, engine, await h.addAgency('ES-CNP', 'ESP'), [...esOnly, ...shared.slice(0, 5)]);
  const pt = new SimAgency(h, engine, await h.addAgency('PT-PJ', 'PRT'), [...ptOnly, ...shared]);
  const fr = await h.addAgency('FR-OCRTEH', 'FRA');
  await addAgreement(h, { id: 'es-pt', parties: ['ES-CNP', 'PT-PJ'], ...agreement });
  const scene = { h, es, pt, fr };
  await nightly(scene);
  return scene;
}

export async function nightly({ es, pt }: Scene, esItems = es.items, ptItems = pt.items): Promise<void> {
  await es.publish();
  await pt.publish();
  await es.upload(PAIR, pt.kp.pk, esItems, 4, 16);
  await pt.upload(PAIR, es.kp.pk, ptItems, 4, 16);
  await es.work();
  await pt.work();
}

/** One targeted query ES → PT with the full round trip; returns the query id and reported handles. */
export async function query({ h, es, pt }: Scene, values: Item[]): Promise<{ id: string; handles: string[]; blinded: string[]; tokens: string[] }> {
  const q = es.blindQuery(values);
  const blinded = q.blinded.map(bytesToHex);
  const a = await h.json(es.signer, 'POST', '/v1/queries', {
    body: { partners: ['PT-PJ'], kind: 'email', purpose: 'terrorism', caseRef: 'OP-NORTE-7', officer: 'es-officer-1', blinded },
  });
  expect(a.status).toBe(201);
  const entry = (await h.json(pt.signer, 'GET', '/v1/queries/inbox')).body.queries[0];
  expect((await h.json(pt.signer, 'POST', `/v1/queries/${a.body.queryId}/answer`, { body: { epoch: entry.epoch, ...pt.answer(entry.blinded) } })).status).toBe(200);
  const leg = (await h.json(es.signer, 'GET', `/v1/queries/${a.body.queryId}`)).body.legs[0];
  const concluded = es.conclude(PAIR, q, leg);
  const out = await h.json(es.signer, 'POST', `/v1/queries/${a.body.queryId}/outcome`, { body: { legs: [{ partner: 'PT-PJ', ...concluded }] } });
  expect(out.status).toBe(200);
  // What must never reach a log: the blinded and evaluated elements, the hit tokens and the hits' evidence.
  const { tokens } = es.finish(PAIR, q, leg);
  const hitTokens = concluded.hits.map((x) => tokens[x.index] as string);
  return {
    id: a.body.queryId,
    handles: out.body.legs[0].hits.map((x: any) => x.handle),
    blinded: [...blinded, ...leg.evaluated],
    tokens: [...hitTokens, ...concluded.hits.flatMap((x) => [x.element, x.blindPublic, x.proof])],
  };
}
