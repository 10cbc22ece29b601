// A dishonest partner on a later night (protocol/SPEC.md §1.6, §5.3 "Partner
// (active)"): every chunk an agency uploads carries its own canaries, so a
// partner whose client tokenises only the chunk of the second night with
// another key than the one behind its published epoch key — the first night
// tokenised honestly, the pair complete — is caught: the pair fails with a
// canary reason for both sides. The agencies run their own, unmodified sync;
// the cheating partner is the partner's own signed client, with its own key.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONCORDAT_SUITE } from '../../protocol/constants.js';
import { encodeScalar, randomScalar } from '../../protocol/group.js';
import { randomBytes } from '../../protocol/rng.js';
import { importWatchlist } from '../../clients/agency/watchlist.js';
import { engine } from './forge.js';
import { built, csvOf, range, World } from './world.js';

const ES = 'ES-CNP';
const PT = 'PT-PJ';
const ES_PT = `es-pt~${ES}~${PT}`;
const both = range(900_000, 6);
const esNight1 = [...range(100_000, 40), ...both];

let w: World;

beforeAll(async () => {
  if (!built) throw new Error('the build output is missing: run `npm run build`');
  w = await World.start();
  await w.agency(ES, 'ESP', esNight1);
  await w.agency(PT, 'PRT', [...range(200_000, 40), ...both]);
  await w.agreement({ id: 'es-pt', parties: [ES, PT] });
  await w.acceptAll('es-pt', [ES, PT]);
  await w.syncAll([ES, PT]);
  expect((await w.coord.client(ES, w.get(ES).signingKey).status(ES_PT)).state).toBe('complete');
}, 180_000);

afterAll(async () => {
  await w?.stop();
});

describe('canaries in every chunk against a dishonest partner', () => {
  it("a partner that tokenises only the second night's chunks with another key fails the pair with a canary reason, for both sides", async () => {
    const es = w.coord.client(ES, w.get(ES).signingKey);
    const pt = w.coord.client(PT, w.get(PT).signingKey);
    const nightOne = (await es.status(ES_PT)).mine.chunks.length;

    // Night 2: ES adds 30 people (60 identifiers) and syncs: new chunks, their canaries registered.
    const file = join(w.work, `${ES}-night2.csv`);
    writeFileSync(file, csvOf(ES, [...esNight1, ...range(500_000, 30)]));
    await w.withStore(ES, (s) => importWatchlist(s, file));
    const night2 = await w.sync(ES);
    expect(night2.errors).toEqual([]);
    expect(night2.pairs[0]?.chunksUploaded).toBeGreaterThan(0);

    // PT's modified client tokenises exactly the new chunks, with a key of its own choosing.
    const tasks = (await pt.work()).filter((t) => t.pair === ES_PT);
    expect(tasks.length).toBe(night2.pairs[0]?.chunksUploaded);
    expect(tasks.every((t) => t.index >= nightOne)).toBe(true);
    const wrongKey = encodeScalar(randomScalar(randomBytes));
    for (const t of tasks) {
      try {
        const chunk = await pt.getPartnerChunk(ES_PT, t.index);
        await pt.putTokens(ES_PT, t.index, engine.tokenize(CONCORDAT_SUITE, wrongKey, chunk.elements), 'e1');
      } catch {
        // The first chunk whose canaries fail fails the pair; the coordinator releases and takes nothing more.
        break;
      }
    }

    const reason = /^canary check failed: (\d+) of (\d+) canaries in ES-CNP's side did not match$/;
    const st = await es.status(ES_PT);
    expect(st.state).toBe('failed');
    expect(st.reason).toMatch(reason);
    // Only the new chunk's canaries failed: the first night's, tokenised honestly, checked out.
    const [, failed, checked] = reason.exec(st.reason ?? '') ?? [];
    expect(Number(failed)).toBeGreaterThan(0);
    expect(Number(checked)).toBeGreaterThan(Number(failed));
    expect((await pt.status(ES_PT)).state).toBe('failed');
    // What caught it: ES registered the new chunks' canaries on night 2.
    expect(night2.pairs[0]).toMatchObject({ canariesRegisteredNow: true, canaryChunksRegistered: tasks.length });

    // Both agencies' own syncs report it loudly.
    for (const id of [ES, PT]) {
      const warnings: string[] = [];
      const r = await w.sync(id, warnings);
      expect(r.failedPairs.map((f) => f.pair)).toEqual([ES_PT]);
      expect(r.failedPairs[0]?.reason).toMatch(reason);
      expect(warnings.join('\n')).toMatch(/PAIR FAILED es-pt~ES-CNP~PT-PJ[\s\S]*canary check failed/);
    }
  });
});
