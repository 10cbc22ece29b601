// The line cache of `concordat import`: for every line the last import
// accepted, a 128-bit digest of its bytes and the identifier it gave. The next
// import looks each line up by digest; only lines it does not find are parsed
// and canonicalised, and the lines it no longer finds are what it withdraws.
// Kept as a few large blobs (clients/store/schema.ts, import_cache_chunks) and
// an open-addressing table over typed arrays, so a million lines cost tens of
// megabytes and no per-line object.

/** Entries per stored chunk. */
export const CHUNK_ENTRIES = 65_536;

const C1 = 0x239b961b;
const C2 = 0xab0e9789;
const C3 = 0x38b34ae5;
const C4 = 0xa1e38b93;

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r));
function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * MurmurHash3 x86 128-bit (seed 0) of `buf[start, end)`, written to `out` as
 * four 32-bit words h1..h4. Not a cryptographic hash: the lines are the
 * agency's own export, and two different lines meet by chance with
 * probability about 2^-128.
 */
export function digest128(buf: Uint8Array, start: number, end: number, out: Uint32Array): void {
  const len = end - start;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  let i = start;
  const blocks = start + (len & ~15);
  for (; i < blocks; i += 16) {
    let k1 = (buf[i] as number) | ((buf[i + 1] as number) << 8) | ((buf[i + 2] as number) << 16) | ((buf[i + 3] as number) << 24);
    let k2 = (buf[i + 4] as number) | ((buf[i + 5] as number) << 8) | ((buf[i + 6] as number) << 16) | ((buf[i + 7] as number) << 24);
    let k3 = (buf[i + 8] as number) | ((buf[i + 9] as number) << 8) | ((buf[i + 10] as number) << 16) | ((buf[i + 11] as number) << 24);
    let k4 = (buf[i + 12] as number) | ((buf[i + 13] as number) << 8) | ((buf[i + 14] as number) << 16) | ((buf[i + 15] as number) << 24);
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2);
    h1 ^= k1;
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0;
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3);
    h2 ^= k2;
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0;
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4);
    h3 ^= k3;
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0;
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1);
    h4 ^= k4;
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0;
  }
  const rest = len & 15;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let k4 = 0;
  const b = (j: number): number => buf[i + j] as number;
  if (rest > 12) {
    if (rest >= 15) k4 ^= b(14) << 16;
    if (rest >= 14) k4 ^= b(13) << 8;
    k4 ^= b(12);
    h4 ^= Math.imul(rotl(Math.imul(k4, C4), 18), C1);
  }
  if (rest > 8) {
    if (rest >= 12) k3 ^= b(11) << 24;
    if (rest >= 11) k3 ^= b(10) << 16;
    if (rest >= 10) k3 ^= b(9) << 8;
    k3 ^= b(8);
    h3 ^= Math.imul(rotl(Math.imul(k3, C3), 17), C4);
  }
  if (rest > 4) {
    if (rest >= 8) k2 ^= b(7) << 24;
    if (rest >= 7) k2 ^= b(6) << 16;
    if (rest >= 6) k2 ^= b(5) << 8;
    k2 ^= b(4);
    h2 ^= Math.imul(rotl(Math.imul(k2, C2), 16), C3);
  }
  if (rest > 0) {
    if (rest >= 4) k1 ^= b(3) << 24;
    if (rest >= 3) k1 ^= b(2) << 16;
    if (rest >= 2) k1 ^= b(1) << 8;
    k1 ^= b(0);
    h1 ^= Math.imul(rotl(Math.imul(k1, C1), 15), C2);
  }
  h1 ^= len;
  h2 ^= len;
  h3 ^= len;
  h4 ^= len;
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  h1 = fmix(h1);
  h2 = fmix(h2);
  h3 = fmix(h3);
  h4 = fmix(h4);
  h1 = (h1 + h2 + h3 + h4) | 0;
  h2 = (h2 + h1) | 0;
  h3 = (h3 + h1) | 0;
  h4 = (h4 + h1) | 0;
  out[0] = h1;
  out[1] = h2;
  out[2] = h3;
  out[3] = h4;
}

// A stored chunk: [k × 16 digest][k × 4 identifier hash][(k + 1) × 4 offsets][identifiers, UTF-8].
// An identifier is record_id NUL kind NUL canonical (neither record ids nor kinds contain NUL).

const utf8 = new TextDecoder();
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The digest under which the j-th identifier derived from a line (j ≥ 1) is
 * cached: the line's digest with its words tweaked by j. A 128-bit digest
 * leaves no practical chance that a tweaked digest is another line's.
 */
export function derivedDigest(d: Uint32Array, j: number, out: Uint32Array = new Uint32Array(4), at = 0): Uint32Array {
  out[0] = ((d[at] as number) ^ Math.imul(j, 0x9e3779b9)) >>> 0;
  out[1] = d[at + 1] as number;
  out[2] = d[at + 2] as number;
  out[3] = ((d[at + 3] as number) ^ j) >>> 0;
  return out;
}

/** The cache of one import: the previous import's lines, then this one's new lines. */
export class LineCache {
  /** Entries: the old ones first (`old` of them), then the new ones. */
  n = 0;
  readonly old: number;
  private dig: Uint32Array;
  private idh: Uint32Array;
  /** Chunk of an old entry, or -1 for a new one (its identifier in `fresh`). */
  private chunk: Int32Array;
  private start: Uint32Array;
  private end: Uint32Array;
  seen: Uint8Array;
  /** Old entries a previous import withdrew (their chunk's dead bitmap): neither found nor withdrawn again. */
  private dead: Uint8Array;
  /** Entries of each stored chunk. */
  private readonly chunkEntries: number[] = [];
  private table: Int32Array;
  private mask: number;
  private fresh = Buffer.allocUnsafe(1 << 20);
  private freshLen = 0;
  private readonly scratch = new Uint32Array(4);

  private constructor(
    private readonly blobs: Buffer[],
    entries: number,
  ) {
    this.old = entries;
    const cap = Math.max(1024, entries + (entries >> 2));
    this.dig = new Uint32Array(cap * 4);
    this.idh = new Uint32Array(cap);
    this.chunk = new Int32Array(cap);
    this.start = new Uint32Array(cap);
    this.end = new Uint32Array(cap);
    this.seen = new Uint8Array(cap);
    this.dead = new Uint8Array(cap);
    let size = 2048;
    while (size < cap * 2) size *= 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
  }

  static empty(): LineCache {
    return new LineCache([], 0);
  }

  /** Rebuilds the cache from its stored chunks; undefined when they do not hold `entries` entries. */
  static load(chunks: Array<{ entries: number; data: Buffer; dead?: Buffer | null }>, entries: number): LineCache | undefined {
    if (chunks.reduce((s, c) => s + c.entries, 0) !== entries) return undefined;
    const c = new LineCache(
      chunks.map((x) => x.data),
      entries,
    );
    chunks.forEach((ch, ci) => {
      const k = ch.entries;
      const d = ch.data;
      const base = k * 24 + 4;
      if (d.length < base) throw new Error('import cache: a chunk is truncated');
      // The fixed part read as little-endian 32-bit words in one pass (a copy,
      // so the blob's alignment does not matter).
      const words = new Uint32Array(k * 6 + 1);
      const view = new DataView(d.buffer, d.byteOffset, base);
      if (LITTLE_ENDIAN) new Uint8Array(words.buffer).set(d.subarray(0, base));
      else for (let w = 0; w < words.length; w++) words[w] = view.getUint32(w * 4, true);
      const i0 = c.n;
      c.dig.set(words.subarray(0, k * 4), i0 * 4);
      c.idh.set(words.subarray(k * 4, k * 5), i0);
      c.chunk.fill(ci, i0, i0 + k);
      const offs = k * 5;
      const dead = ch.dead ?? undefined;
      if (dead !== undefined && dead.length !== (k + 7) >> 3) throw new Error('import cache: a dead-entry bitmap has the wrong size');
      for (let j = 0; j < k; j++) {
        c.start[i0 + j] = base + (words[offs + j] as number);
        c.end[i0 + j] = base + (words[offs + j + 1] as number);
        if ((c.end[i0 + j] as number) > d.length) throw new Error('import cache: a chunk is truncated');
        if (dead !== undefined && ((dead[j >> 3] as number) >> (j & 7)) & 1) c.dead[i0 + j] = 1;
        else c.insert(i0 + j);
      }
      c.chunkEntries.push(k);
      c.n += k;
    });
    return c;
  }

  private insert(i: number): void {
    let slot = (this.dig[i * 4] as number) & this.mask;
    while (this.table[slot] !== 0) slot = (slot + 1) & this.mask;
    this.table[slot] = i + 1;
  }

  /** The entry with digest `d` (the four words of `d` from `at`), or -1. */
  find(d: Uint32Array, at = 0): number {
    const d0 = d[at] as number;
    let slot = d0 & this.mask;
    for (;;) {
      const e = this.table[slot] as number;
      if (e === 0) return -1;
      const i = (e - 1) * 4;
      if (this.dig[i] === d0 && this.dig[i + 1] === d[at + 1] && this.dig[i + 2] === d[at + 2] && this.dig[i + 3] === d[at + 3]) return e - 1;
      slot = (slot + 1) & this.mask;
    }
  }

  /**
   * Marks the line with digest `d` as read again: 0 when it is not cached, 1
   * when the last import had it, 2 when it came earlier in this file.
   */
  hit(d: Uint32Array): 0 | 1 | 2 {
    const i = this.find(d);
    if (i < 0) return 0;
    this.seen[i] = 1;
    // The identifiers derived from the line (name_dob_phonetic keys) are
    // entries of their own, under derived digests: read again with it.
    for (let j = 1; ; j++) {
      const k = this.find(derivedDigest(d, j, this.scratch));
      if (k < 0) break;
      this.seen[k] = 1;
    }
    return i < this.old ? 1 : 2;
  }

  /** Adds a line this import canonicalised (its digest, the four words of `d` from `at`, must not be cached yet). */
  add(d: Uint32Array, recordId: string, kind: string, canonical: string, at = 0): void {
    if (this.n === this.idh.length) this.grow();
    const triple = `${recordId}\0${kind}\0${canonical}`;
    // At most 3 UTF-8 bytes per UTF-16 code unit: room is made once, without measuring.
    if (this.freshLen + triple.length * 3 > this.fresh.length) {
      const next = Buffer.allocUnsafe(Math.max(this.fresh.length * 2, this.freshLen + triple.length * 3));
      this.fresh.copy(next, 0, 0, this.freshLen);
      this.fresh = next;
    }
    const i = this.n++;
    const s = this.freshLen;
    this.freshLen += this.fresh.write(triple, s);
    const o = i * 4;
    this.dig[o] = d[at] as number;
    this.dig[o + 1] = d[at + 1] as number;
    this.dig[o + 2] = d[at + 2] as number;
    this.dig[o + 3] = d[at + 3] as number;
    digest128(this.fresh, s, this.freshLen, this.scratch);
    this.idh[i] = this.scratch[0] as number;
    this.chunk[i] = -1;
    this.start[i] = s;
    this.end[i] = this.freshLen;
    this.seen[i] = 1;
    if ((this.n << 1) > this.mask) this.rehash();
    else this.insert(i);
  }

  /**
   * Makes room for `entries` entries and `bytes` bytes of identifiers up
   * front, so a first import of a large file neither copies its growing
   * arrays nor holds the old and new copy at once (its peak memory).
   */
  reserve(entries: number, bytes: number): void {
    if (entries > this.idh.length) {
      this.grow(entries);
      let size = this.table.length;
      while (size < entries * 2) size *= 2;
      if (size !== this.table.length) {
        this.table = new Int32Array(size);
        this.mask = size - 1;
        for (let i = 0; i < this.n; i++) if (!this.dead[i]) this.insert(i);
      }
    }
    if (bytes > this.fresh.length) {
      const next = Buffer.allocUnsafe(bytes);
      this.fresh.copy(next, 0, 0, this.freshLen);
      this.fresh = next;
    }
  }

  private grow(to = this.idh.length * 2): void {
    const cap = to;
    const more = <T extends Uint32Array | Int32Array | Uint8Array>(a: T, size: number): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.dig = more(this.dig, cap * 4);
    this.idh = more(this.idh, cap);
    this.chunk = more(this.chunk, cap);
    this.start = more(this.start, cap);
    this.end = more(this.end, cap);
    this.seen = more(this.seen, cap);
    this.dead = more(this.dead, cap);
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2);
    this.mask = this.table.length - 1;
    for (let i = 0; i < this.n; i++) if (!this.dead[i]) this.insert(i);
  }

  private bytes(i: number): Buffer {
    const c = this.chunk[i] as number;
    return (c < 0 ? this.fresh : (this.blobs[c] as Buffer)).subarray(this.start[i], this.end[i]);
  }

  /** The identifier of entry i: record id, kind and canonical form. */
  identifier(i: number): [string, string, string] {
    const t = utf8.decode(this.bytes(i));
    const a = t.indexOf('\0');
    const b = t.indexOf('\0', a + 1);
    return [t.slice(0, a), t.slice(a + 1, b), t.slice(b + 1)];
  }

  /**
   * Identifiers of the old lines this import did not read again that no line
   * read now still gives: exactly the identifiers withdrawn.
   */
  withdrawn(): Array<[string, string, string]> {
    const gone = new Map<string, number>();
    const hashes = new Set<number>();
    for (let i = 0; i < this.old; i++) {
      if (this.seen[i] || this.dead[i]) continue;
      gone.set(this.bytes(i).toString('latin1'), i);
      hashes.add(this.idh[i] as number);
    }
    if (gone.size === 0) return [];
    for (let i = 0; i < this.n; i++) {
      if (this.seen[i] && hashes.has(this.idh[i] as number)) gone.delete(this.bytes(i).toString('latin1'));
    }
    return [...gone.values()].map((i) => this.identifier(i));
  }

  /** True when this import read every old line again and no new one: the stored chunks hold the cache as it is. */
  same(): boolean {
    if (this.n !== this.old) return false;
    for (let i = 0; i < this.old; i++) if (!this.seen[i] && !this.dead[i]) return false;
    return true;
  }

  /**
   * Whether the stored chunks can be kept, with dead bitmaps and one more
   * chunk for the new lines ({@link deadMaps}, {@link chunks} from `old`),
   * rather than rewritten: while at most a quarter of what they would hold
   * is dead, and they are not many more than a rewrite would make.
   */
  appendable(): boolean {
    if (this.old === 0) return false;
    let dead = 0;
    for (let i = 0; i < this.old; i++) if (!this.seen[i]) dead++;
    return dead * 4 <= this.storedAfterAppend() && this.chunkEntries.length + 1 <= 2 * Math.ceil(this.live() / CHUNK_ENTRIES) + 2;
  }

  /** Entries the stored chunks hold after an append: old ones (dead or not) and the new ones read. */
  storedAfterAppend(): number {
    let k = this.old;
    for (let i = this.old; i < this.n; i++) k += this.seen[i] as number;
    return k;
  }

  /** For each stored chunk with an entry this import withdrew: its index and new bitmap (dead entries are never seen). */
  *deadMaps(): Generator<{ index: number; dead: Buffer }> {
    let i0 = 0;
    for (let ci = 0; ci < this.chunkEntries.length; ci++) {
      const k = this.chunkEntries[ci] as number;
      let withdrawn = false;
      for (let j = 0; j < k && !withdrawn; j++) withdrawn = !this.seen[i0 + j] && !this.dead[i0 + j];
      if (withdrawn) {
        const map = Buffer.alloc((k + 7) >> 3);
        for (let j = 0; j < k; j++) if (!this.seen[i0 + j]) map[j >> 3] = (map[j >> 3] as number) | (1 << (j & 7));
        yield { index: ci, dead: map };
      }
      i0 += k;
    }
  }

  /** Entries read by this import (old ones read again and new ones). */
  live(): number {
    let k = 0;
    for (let i = 0; i < this.n; i++) k += this.seen[i] as number;
    return k;
  }

  /** The live entries from entry `from` on (0: all of them) as stored chunks, one at a time. */
  *chunks(from = 0): Generator<{ entries: number; data: Buffer }> {
    let i = from;
    for (;;) {
      const pick: number[] = [];
      let bytes = 0;
      for (; i < this.n && pick.length < CHUNK_ENTRIES; i++) {
        if (!this.seen[i]) continue;
        pick.push(i);
        bytes += (this.end[i] as number) - (this.start[i] as number);
      }
      if (pick.length === 0) return;
      const k = pick.length;
      const base = k * 24 + 4;
      const data = Buffer.allocUnsafe(base + bytes);
      // The fixed part built as 32-bit words and written in one copy (as load reads it).
      const words = new Uint32Array(k * 6 + 1);
      let off = 0;
      for (let j = 0; j < k; j++) {
        const e = pick[j] as number;
        words[j * 4] = this.dig[e * 4] as number;
        words[j * 4 + 1] = this.dig[e * 4 + 1] as number;
        words[j * 4 + 2] = this.dig[e * 4 + 2] as number;
        words[j * 4 + 3] = this.dig[e * 4 + 3] as number;
        words[k * 4 + j] = this.idh[e] as number;
        words[k * 5 + j] = off;
        const c = this.chunk[e] as number;
        off += (c < 0 ? this.fresh : (this.blobs[c] as Buffer)).copy(data, base + off, this.start[e], this.end[e]);
      }
      words[k * 6] = off;
      if (LITTLE_ENDIAN) data.set(new Uint8Array(words.buffer), 0);
      else for (let w = 0; w < words.length; w++) data.writeUInt32LE(words[w] as number, w * 4);
      yield { entries: k, data };
    }
  }
}
