// `npm run bench -- load [--connections 50] [--own N] [--seconds S] [--json]`:
// signed `GET /v1/me` from autocannon on loopback against `coordinator serve`
// while two agencies sync (the built CLI, both at once, two rounds). Each
// request carries its own RFC 9421 signature and nonce, signed in
// autocannon's setupRequest as the SDK signs (clients/sdk/client.ts). Beside
// it, in the same run: the same load with no sync, unsigned `GET /healthz`
// (the HTTP stack's own limit, no signature check, no database write) and the
// syncs alone; the syncs' results under load must equal theirs alone.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon, { type Result } from 'autocannon';
import { newNonce } from '../clients/sdk/client.js';
import { hexToBytes } from '../protocol/bytes.js';
import { signRequest } from '../protocol/http-signature.js';
import { diffSnapshots, Template, type Trial } from './soak/world.js';
import { intFlag } from './util.js';

export interface LoadFigures {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  errors: number;
  non2xx: number;
  status: Record<string, number>;
}

export interface LoadResult {
  connections: number;
  records_per_agency: number;
  healthz_unsigned: LoadFigures;
  me_signed_alone: LoadFigures;
  me_signed_during_syncs: LoadFigures;
  syncs_alone_s: number;
  syncs_under_load_s: number;
  sync_slowdown: number;
  results_equal: boolean;
  differences: string[];
  target: { rps: 1000; p99_ms: 100; slowdown: 1.5 };
  target_met: boolean;
}

function figures(r: Result): LoadFigures {
  const status: Record<string, number> = {};
  for (const [k, v] of Object.entries(r.statusCodeStats ?? {})) status[k] = v.count;
  return {
    rps: Math.round(r.requests.total / r.duration),
    p50_ms: r.latency.p50,
    p99_ms: r.latency.p99,
    requests: r.requests.total,
    errors: r.errors + r.timeouts,
    non2xx: r.non2xx,
    status,
  };
}

/** Starts autocannon; `stop()` ends it and resolves with its figures. */
function cannon(url: string, connections: number, signed: { keyid: string; key: Uint8Array }[] | undefined, path: string): { stop: () => Promise<LoadFigures> } {
  let n = 0;
  let resolve: (r: LoadFigures) => void = () => {};
  let reject: (e: Error) => void = () => {};
  const done = new Promise<LoadFigures>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const target = new URL(path, url);
  const inst = autocannon(
    {
      url,
      connections,
      duration: 3600,
      requests: [
        {
          method: 'GET',
          path,
          setupRequest: (req) => {
            if (!signed) return req;
            // A fresh nonce and `created` for every request: the coordinator accepts a nonce once (src/API.md, "Authentication").
            const who = signed[n++ % signed.length] as { keyid: string; key: Uint8Array };
            const sig = signRequest({ method: 'GET', url: target, body: new Uint8Array(0), keyid: who.keyid, secretKey: who.key, created: Math.floor(Date.now() / 1000), nonce: newNonce() });
            return { ...req, headers: { ...req.headers, ...sig, accept: 'application/json' } };
          },
        },
      ],
    },
    (err, r) => (err ? reject(err) : resolve(figures(r))),
  );
  return {
    stop: () => {
      inst.stop();
      return done;
    },
  };
}

/** Both agencies' syncs at once, two rounds; wall seconds. */
async function nightlySyncs(t: Trial): Promise<number> {
  const t0 = performance.now();
  for (let round = 0; round < 2; round++) {
    const runs = await Promise.all(t.agencies.map((a) => t.sync(a)));
    for (const [i, r] of runs.entries()) if (r.code !== 0) throw new Error(`sync ${t.agencies[i]} exited ${r.code ?? r.signal}:\n${r.stderr.slice(-2000)}`);
  }
  // A third round settles pairs that completed during the second.
  while (t.pendingPairs().length > 0 && performance.now() - t0 < 600_000) await Promise.all(t.agencies.map((a) => t.sync(a)));
  return (performance.now() - t0) / 1000;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function benchLoad(flags: Map<string, string | true>, log: (s: string) => void): Promise<LoadResult> {
  const connections = intFlag(flags, 'connections', 50);
  const own = intFlag(flags, 'own', 1000);
  const seconds = intFlag(flags, 'seconds', 10);
  const template = await Template.build({ agencies: 2, own, seed: 4242 });
  const alone = await template.trial();
  const loaded = await template.trial();
  try {
    await alone.start();
    const keys = alone.agencies.map((a) => ({ keyid: a, key: hexToBytes(readFileSync(join(alone.agencyDir(a), 'signing.key'), 'utf8').trim()) }));
    log(`load: ${connections} connections on ${alone.coord.url}, two agencies of ${own + 15} records`);

    const hz = cannon(alone.coord.url, connections, undefined, '/healthz');
    await sleep(seconds * 1000);
    const healthz = await hz.stop();
    log(`GET /healthz (unsigned): ${healthz.rps} req/s, p50 ${healthz.p50_ms} ms, p99 ${healthz.p99_ms} ms`);
    const me = cannon(alone.coord.url, connections, keys, '/v1/me');
    await sleep(seconds * 1000);
    const meAlone = await me.stop();
    log(`signed GET /v1/me, no sync: ${meAlone.rps} req/s, p50 ${meAlone.p50_ms} ms, p99 ${meAlone.p99_ms} ms, ${meAlone.errors} errors, ${meAlone.non2xx} non-2xx`);

    const aloneS = await nightlySyncs(alone);
    const ref = await alone.snapshot();
    log(`syncs alone: ${aloneS.toFixed(1)} s`);

    await loaded.start();
    const keys2 = loaded.agencies.map((a) => ({ keyid: a, key: hexToBytes(readFileSync(join(loaded.agencyDir(a), 'signing.key'), 'utf8').trim()) }));
    const during = cannon(loaded.coord.url, connections, keys2, '/v1/me');
    const loadedS = await nightlySyncs(loaded);
    const meDuring = await during.stop();
    const got = await loaded.snapshot();
    const differences = diffSnapshots(ref, got);
    log(`signed GET /v1/me during the syncs: ${meDuring.rps} req/s, p50 ${meDuring.p50_ms} ms, p99 ${meDuring.p99_ms} ms, ${meDuring.errors} errors, ${meDuring.non2xx} non-2xx`);
    log(`syncs under load: ${loadedS.toFixed(1)} s (${(loadedS / aloneS).toFixed(2)}× alone); results ${differences.length ? `DIFFER: ${differences.join('; ')}` : 'equal to the syncs alone'}`);
    const slowdown = Number((loadedS / aloneS).toFixed(3));
    return {
      connections,
      records_per_agency: own + 15,
      healthz_unsigned: healthz,
      me_signed_alone: meAlone,
      me_signed_during_syncs: meDuring,
      syncs_alone_s: Number(aloneS.toFixed(2)),
      syncs_under_load_s: Number(loadedS.toFixed(2)),
      sync_slowdown: slowdown,
      results_equal: differences.length === 0,
      differences,
      target: { rps: 1000, p99_ms: 100, slowdown: 1.5 },
      target_met: meDuring.rps >= 1000 && meDuring.p99_ms <= 100 && slowdown <= 1.5 && differences.length === 0 && meDuring.errors === 0 && meDuring.non2xx === 0,
    };
  } finally {
    await alone.stop();
    await loaded.stop();
    alone.remove();
    loaded.remove();
    template.remove();
  }
}


