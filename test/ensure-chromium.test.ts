// scripts/ensure-chromium.sh, the step `npm test` runs first: the browser the
// console's browser tests drive is there, installed, or named as missing with
// how to get it — never a silent skip.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const script = join(process.cwd(), 'scripts', 'ensure-chromium.sh');
const fake = mkdtempSync(join(tmpdir(), 'concordat-chromium-'));
const marker = join(fake, 'apt-get-ran');
// An apt-get first on PATH that only records that it ran.
writeFileSync(join(fake, 'apt-get'), `#!/bin/sh\necho "$@" >> ${marker}\n`);
chmodSync(join(fake, 'apt-get'), 0o755);
afterAll(() => rmSync(fake, { recursive: true, force: true }));

function run(env: Record<string, string>) {
  const { CONCORDAT_CHROMIUM: _unset, ...rest } = process.env;
  const r = spawnSync('bash', [script], { env: { ...rest, PATH: `${fake}:${process.env.PATH ?? ''}`, ...env }, encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('ensure-chromium (npm test, first step)', () => {
  it('package.json runs it before the tests', async () => {
    const pkg = JSON.parse((await import('node:fs')).readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.pretest).toBe('bash scripts/ensure-chromium.sh');
  });

  it('a missing browser named in CONCORDAT_CHROMIUM fails with what to do, and installs nothing', () => {
    const r = run({ CONCORDAT_CHROMIUM: join(fake, 'nonexistent') });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`no Chromium at ${join(fake, 'nonexistent')}`);
    expect(r.err).toContain('test/console-browser.test.ts');
    expect(r.err).toMatch(/CONCORDAT_CHROMIUM=.* is not an executable: point it at a Chromium or Chrome binary, or unset it to use \/usr\/bin\/chromium/);
    expect(existsSync(marker)).toBe(false);
  });

  it('a browser that is there is used as it is: its version printed, apt-get never run', () => {
    const browser = join(fake, 'chromium');
    writeFileSync(browser, '#!/bin/sh\necho "Chromium 999.0 (test double)"\n');
    chmodSync(browser, 0o755);
    const r = run({ CONCORDAT_CHROMIUM: browser });
    expect(r).toMatchObject({ code: 0, out: 'Chromium 999.0 (test double)\n' });
    expect(existsSync(marker)).toBe(false);
  });

  it.runIf(existsSync('/usr/bin/chromium'))("with Debian's chromium present nothing changes", () => {
    const r = run({});
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Chromium \d+/);
    expect(existsSync(marker)).toBe(false);
  });
});
