// What `concordat sync` and `concordat import` say when the process doing
// their work was stopped by a signal. bin/concordat.js runs these two in a
// child process and calls this when the child dies of one: the agency's store
// is SQLite in WAL mode, whose shared-memory index is a mapped file, and when
// the directory's files turn immutable or its filesystem read-only under a
// running process, the kernel answers the next write to that mapping with
// SIGBUS. A nightly job must instead see an exit code and the cause by name.
import { closeSync, constants, openSync, readdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT } from '../sdk/errors.js';

/** The `--dir` of an argument list, if any. */
function dirOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (a === '--dir') return args[i + 1];
    if (a.startsWith('--dir=')) return a.slice('--dir='.length);
  }
  return undefined;
}

const errno = (e: unknown): string => {
  const err = e as NodeJS.ErrnoException;
  const what = err.code === 'EPERM' ? 'operation not permitted' : err.code === 'EROFS' ? 'read-only filesystem' : err.code === 'EACCES' ? 'permission denied' : err.code === 'ENOSPC' ? 'no space left' : undefined;
  return what ? `${err.code}: ${what}` : (err.code ?? 'error');
};

/** Why the directory cannot be written, or undefined when it can: a new file in it, then each file in it opened for writing. */
export function unwritable(dir: string): string | undefined {
  const probe = join(dir, `.write-probe-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx', 0o600));
    unlinkSync(probe);
  } catch (e) {
    return `a file cannot be created in it (${errno(e)})`;
  }
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    try {
      closeSync(openSync(join(dir, entry.name), constants.O_WRONLY));
    } catch (e) {
      return `${entry.name} cannot be written (${errno(e)})`;
    }
  }
  return undefined;
}

/** Prints why `args` (a supervised command) stopped with `signal`; the exit code to end with. */
export function explainStop(args: readonly string[], signal: string): number {
  const command = `concordat ${args[0] ?? ''}`.trim();
  const dir = dirOf(args);
  let cause: string | undefined;
  try {
    cause = dir === undefined ? undefined : unwritable(dir);
  } catch (e) {
    cause = `it cannot be read (${errno(e)})`;
  }
  if (cause !== undefined) {
    console.error(
      `${command}: stopped by ${signal}: the agency directory ${dir} cannot be written: ${cause}. ` +
        'Its files were made read-only or immutable, or its filesystem turned read-only (see lsattr and mount). ' +
        'Nothing was lost: restore write access, then run it again.',
    );
  } else {
    const hint = signal === 'SIGKILL' ? ' (by another process, or the system out of memory)' : '';
    console.error(`${command}: stopped by ${signal}${hint}; nothing was lost: run it again. If it recurs, check the storage under the agency directory.`);
  }
  return EXIT.error;
}
