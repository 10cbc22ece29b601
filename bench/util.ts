import { createServer } from 'node:net';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Minimal `--flag value` / `--flag` parser for the bench scenarios. */
export function parseFlags(argv: string[]): { positional: string[]; flags: Map<string, string | true> } {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2) as [string, string | undefined];
      const next = argv[i + 1];
      if (v !== undefined) flags.set(k, v);
      else if (next !== undefined && !next.startsWith('--')) {
        flags.set(k, next);
        i++;
      } else flags.set(k, true);
    } else positional.push(a);
  }
  return { positional, flags };
}

export function intFlag(flags: Map<string, string | true>, name: string, dflt: number): number {
  const v = flags.get(name);
  if (v === undefined) return dflt;
  const n = Number(String(v).replace(/_/g, ''));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name}: expected a positive integer`);
  return n;
}

/** A port free on the loopback interface at the moment of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
