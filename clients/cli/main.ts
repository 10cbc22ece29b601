// The agency `concordat` CLI. Each command group registers itself from
// commands/; the coordinator's own commands live in src/cli (bin/concordat.js
// dispatches `concordat coordinator …` there).
import { Command, CommanderError } from 'commander';
import { registerAgency } from './commands/agency.js';
import { registerAgreements } from './commands/agreements.js';
import { registerAudit } from './commands/audit.js';
import { registerDoctor } from './commands/doctor.js';
import { registerInvestigate } from './commands/investigate.js';
import { registerOfficers } from './commands/officers.js';
import { registerVectors } from './commands/vectors.js';
import { EXIT, exitCodeFor } from '../sdk/errors.js';
import { versionLine } from './version.js';
import { describeLocalError } from '../agency/config.js';
import { coordinatorUnavailable } from '../agency/transport.js';

export function buildProgram(): Command {
  const program = new Command('concordat')
    .description('Concordat agency client: privacy-preserving overlap checks between agencies')
    .version(versionLine('concordat'), '-V, --version', 'print the version and the protocol suite')
    .showHelpAfterError()
    .exitOverride();
  registerAgency(program);
  registerAgreements(program);
  registerAudit(program);
  registerDoctor(program);
  registerInvestigate(program);
  registerOfficers(program);
  registerVectors(program);
  return program;
}

/** Runs the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (e) {
    // Help and --version end 0; an unknown command or flag, a missing option or argument, a value outside the choices: usage (2).
    if (e instanceof CommanderError) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
    // A local disk failure is named by its code (ENOSPC, EROFS, SQLITE_FULL …), never left as the driver's bare text.
    const message = coordinatorUnavailable(e) ?? (e instanceof Error ? e.message : String(e));
    const local = describeLocalError(e);
    console.error(`concordat: ${message}${local && !message.includes(local.split(' ')[0] as string) ? ` [${local}]` : ''}`);
    return exitCodeFor(e);
  }
}
