// Shared set-up of the end-to-end tests (Node and Workers coordinators): the
// built `concordat` CLI, three agencies writing the same people in their own
// national formats, three agreements (one count mode) and planted two- and
// three-way overlaps.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makePerson, prng, rowsFor, toCsv, type Person, type Style } from '../scripts/synthetic.js';

export const bin = join(fileURLToPath(new URL('..', import.meta.url)), 'bin', 'concordat.js');

export function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

export async function ok(args: string[]): Promise<string> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`concordat ${args.slice(0, 3).join(' ')} exited ${r.code}:\n${r.stderr}`);
  return r.stdout;
}

export const AGENCIES: ReadonlyArray<{ id: string; country: string; style: Style }> = [
  { id: 'ES-CNP', country: 'ESP', style: 'es' },
  { id: 'PT-PJ', country: 'PRT', style: 'pt' },
  { id: 'FR-OCRTEH', country: 'FRA', style: 'fr' },
];

export interface ResultsJson {
  matches: Array<{ partner: string; record_id: string; kinds: string[]; handle: string }>;
  counts: Array<{ partner: string; count: number }>;
}

/** Record ids of `r`'s matches with `partner`, sorted. */
export const recs = (r: ResultsJson, partner: string): string[] => r.matches.filter((m) => m.partner === partner).map((m) => m.record_id).sort();

export class World {
  readonly people = new Map<number, Person>();
  readonly members = new Map<string, number[]>();
  constructor(readonly work: string) {}

  admin(url: string, args: string[]): Promise<string> {
    return ok(['coordinator', 'admin', '--url', url, '--admin-key', join(this.work, 'coord', 'admin.key'), ...args]);
  }

  /** Agency dirs, their registration, and the agreements es-pt (reveal), es-fr (reveal), pt-fr (count). */
  async enrol(url: string): Promise<void> {
    for (const a of AGENCIES) {
      await ok(['init', '--dir', join(this.work, a.id), '--agency', a.id, '--coordinator', url]);
      await this.admin(url, ['agency', 'add', '--id', a.id, '--name', a.id, '--country', a.country, '--key', join(this.work, a.id, 'signing.pub')]);
    }
    const agreement = (id: string, parties: string, kinds: string, mode: string) =>
      this.admin(url, ['agreement', 'add', '--id', id, '--parties', parties, '--kinds', kinds, '--mode', mode, '--until', '2030-12-31', '--legal-basis', 'test']);
    await agreement('es-pt', 'ES-CNP,PT-PJ', 'passport,email,phone,name_dob', 'reveal');
    await agreement('es-fr', 'ES-CNP,FR-OCRTEH', 'passport,phone,iban', 'reveal');
    await agreement('pt-fr', 'PT-PJ,FR-OCRTEH', 'passport,email', 'count');
    // Protocol v2 (protocol/SPEC.md §8.6): every party accepts each agreement with its own key, as operators do.
    for (const [id, parties] of [['es-pt', ['ES-CNP', 'PT-PJ']], ['es-fr', ['ES-CNP', 'FR-OCRTEH']], ['pt-fr', ['PT-PJ', 'FR-OCRTEH']]] as const) {
      for (const a of parties) await ok(['agreements', 'accept', id, '--dir', join(this.work, a), '--officer', `ops.${a}`, '--yes']);
    }
  }

  /** Planted overlaps plus 300 own records per agency; 50 spare people for later nights. Imports them. */
  async plant(seed: number): Promise<void> {
    const rnd = prng(seed);
    let next = 1;
    for (const a of AGENCIES) this.members.set(a.id, []);
    for (const [group, n] of [['ES-CNP+PT-PJ', 12], ['ES-CNP+FR-OCRTEH', 9], ['PT-PJ+FR-OCRTEH', 7], ['ES-CNP+PT-PJ+FR-OCRTEH', 5]] as const) {
      for (let i = 0; i < n; i++, next++) for (const a of group.split('+')) this.members.get(a)!.push(next);
    }
    for (const a of AGENCIES) for (let i = 0; i < 300; i++) this.members.get(a.id)!.push(next++);
    for (let id = 1; id < next + 50; id++) this.people.set(id, makePerson(id, rnd));
    for (const a of AGENCIES) await this.importWatchlist(a.id);
  }

  async importWatchlist(agency: string): Promise<void> {
    const style = AGENCIES.find((a) => a.id === agency)!.style;
    const file = join(this.work, `${agency}.csv`);
    writeFileSync(file, toCsv(this.members.get(agency)!.flatMap((id) => rowsFor(this.people.get(id)!, `${agency}-${id}`, style))));
    await ok(['import', '--dir', join(this.work, agency), file]);
  }

  async syncAll(): Promise<void> {
    for (let round = 0; round < 2; round++) for (const a of AGENCIES) await ok(['sync', '--dir', join(this.work, a.id)]);
  }

  async results(agency: string): Promise<ResultsJson> {
    return JSON.parse(await ok(['results', '--dir', join(this.work, agency), '--format', 'json'])) as ResultsJson;
  }

  /** Record ids of `me` that the planted data says overlap with `partner`. */
  expected(me: string, partner: string): string[] {
    return this.members.get(me)!.filter((id) => this.members.get(partner)!.includes(id)).map((id) => `${me}-${id}`).sort();
  }
}
