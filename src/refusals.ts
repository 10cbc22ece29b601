// Refused authentication (src/API.md, "Authentication"): anonymous traffic
// must not grow the audit log, nor tie up the coordinator. Per source (the
// client's address when the runtime gives one, else `unknown`) and UTC hour,
// the first refusal of each reason is audited in full (`auth.refused`, as
// before); the rest are only counted, and the counts of a past hour go into
// one `auth.refused_summary` entry per source at the first refusal of a later
// hour or at the maintenance tick. A source refused more than
// REFUSALS_PER_MINUTE times in a minute is answered 429 with Retry-After until
// the minute ends, before its body is read. The counts live in the process
// (an isolate on Workers), so each keeps its own: a handful of entries per
// source and hour, never one per request.
import type { JsonValue } from '../protocol/canonical.js';

/** Refusals per source and minute before its requests are answered 429. */
export const REFUSALS_PER_MINUTE = 600;
/** Full `auth.refused` entries per hour over all sources; past it, refusals are only counted. */
export const FULL_ENTRIES_PER_HOUR = 100;
/** Sources tracked at once; past it, new sources count as `many`. */
const MAX_SOURCES = 10_000;

interface HourCount {
  refused: number;
  /** Refusals audited in full (the first of each reason). */
  audited: number;
  limited: number;
  reasons: Set<string>;
}

export interface RefusalSummary {
  source: string;
  hour: string;
  detail: { [k: string]: JsonValue };
}

const hourOf = (d: Date): string => d.toISOString().slice(0, 13);

export class RefusalTracker {
  private readonly hours = new Map<string, Map<string, HourCount>>();
  private readonly minute = new Map<string, { minute: number; n: number }>();
  private fullThisHour = { hour: '', n: 0 };

  private count(source: string, now: Date): HourCount {
    const hour = hourOf(now);
    let m = this.hours.get(hour);
    if (!m) this.hours.set(hour, (m = new Map()));
    const key = m.has(source) || m.size < MAX_SOURCES ? source : 'many';
    let c = m.get(key);
    if (!c) m.set(key, (c = { refused: 0, audited: 0, limited: 0, reasons: new Set() }));
    return c;
  }

  /** Seconds until `source` may be heard again, or 0. */
  retryAfter(source: string, now: Date): number {
    const m = this.minute.get(source);
    const current = Math.floor(now.getTime() / 60_000);
    if (!m || m.minute !== current || m.n < REFUSALS_PER_MINUTE) return 0;
    this.count(source, now).limited++;
    return Math.max(1, 60 - Math.floor((now.getTime() % 60_000) / 1000));
  }

  /** Counts a refusal; true when it is to be audited in full. */
  refused(source: string, reason: string, now: Date): boolean {
    const current = Math.floor(now.getTime() / 60_000);
    const m = this.minute.get(source);
    if (!m || m.minute !== current) {
      if (this.minute.size >= MAX_SOURCES) this.minute.clear();
      this.minute.set(source, { minute: current, n: 1 });
    } else m.n++;
    const c = this.count(source, now);
    c.refused++;
    const hour = hourOf(now);
    if (this.fullThisHour.hour !== hour) this.fullThisHour = { hour, n: 0 };
    if (c.reasons.has(reason) || this.fullThisHour.n >= FULL_ENTRIES_PER_HOUR) return false;
    c.reasons.add(reason);
    c.audited++;
    this.fullThisHour.n++;
    return true;
  }

  /** The counts of hours before `now`'s that hold refusals not audited in full, removed from the tracker. */
  takePast(now: Date): RefusalSummary[] {
    const current = hourOf(now);
    const out: RefusalSummary[] = [];
    for (const [hour, m] of this.hours) {
      if (hour >= current) continue;
      this.hours.delete(hour);
      for (const [source, c] of m) {
        if (c.refused === c.audited && c.limited === 0) continue;
        out.push({ source, hour: `${hour}:00:00Z`, detail: { source, hour: `${hour}:00:00Z`, refused: c.refused, auditedInFull: c.audited, rateLimited: c.limited, reasons: [...c.reasons].sort() } });
      }
    }
    return out;
  }
}
