// `concordat officers`: who may log in to the investigator console
// (`concordat serve --ui`). Passwords are read from the terminal without
// echo, or from standard input with --password-stdin (never from a flag:
// flags show in the process list and shell history).
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { appendAudit } from '../../agency/audit.js';
import { loadAgency } from '../../agency/config.js';
import { addOfficer, checkPassword, disableOfficer, listOfficers, setPassword } from '../../agency/officers.js';
import { AgencyError, EXIT } from '../../sdk/errors.js';
import { openStore } from '../../store/db.js';

const out = (l: string) => process.stdout.write(`${l}\n`);
const err = (l: string) => process.stderr.write(`${l}\n`);

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  // One trailing newline (from echo or a file) is not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput?: (s: string) => void };
    process.stderr.write(question);
    // Echo nothing while the password is typed.
    output._writeToOutput = () => {};
    rl.question('', (answer) => {
      rl.close();
      process.stderr.write('\n');
      resolve(answer);
    });
    rl.on('SIGINT', () => {
      rl.close();
      reject(new AgencyError('cancelled'));
    });
  });
}

async function readPassword(fromStdin: boolean | undefined): Promise<string> {
  if (fromStdin) return checkPassword(await readStdin());
  if (!process.stdin.isTTY) throw new AgencyError('no terminal to ask for the password: pipe it in with --password-stdin');
  const first = checkPassword(await promptHidden('password: '));
  const again = await promptHidden('password again: ');
  if (again !== first) throw new AgencyError('the two passwords differ');
  return first;
}

export function registerOfficers(program: Command): void {
  const officers = program.command('officers').description('officers who may log in to the investigator console (serve --ui)');

  officers
    .command('add')
    .description('add an officer; the password (at least 12 characters) is asked on the terminal or read with --password-stdin')
    .requiredOption('--dir <dir>', 'agency directory')
    .requiredOption('--id <id>', 'officer id (1..64 of A-Z a-z 0-9 . _ -), recorded with every action')
    .requiredOption('--name <name>', 'display name')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (o: { dir: string; id: string; name: string; passwordStdin?: boolean }) => {
      const agency = loadAgency(o.dir, err);
      const store = openStore(agency.dir);
      try {
        if (listOfficers(store).some((x) => x.id === o.id)) throw new AgencyError(`officer ${o.id} already exists (use \`officers passwd\` to change the password)`);
        const officer = await addOfficer(store, { id: o.id, name: o.name, password: await readPassword(o.passwordStdin) });
        appendAudit(store, { officer: null, action: 'officer.add', subject: officer.id, outcome: 'ok', detail: { via: 'cli' } });
        out(`officer ${officer.id} (${officer.name}) added; they can log in to the console of \`concordat serve --dir ${o.dir} --ui\``);
        process.exitCode = EXIT.ok;
      } finally {
        store.close();
      }
    });

  officers
    .command('passwd')
    .description("replace an officer's password")
    .requiredOption('--dir <dir>', 'agency directory')
    .requiredOption('--id <id>', 'officer id')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (o: { dir: string; id: string; passwordStdin?: boolean }) => {
      const agency = loadAgency(o.dir, err);
      const store = openStore(agency.dir);
      try {
        if (!listOfficers(store).some((x) => x.id === o.id)) throw new AgencyError(`no officer ${o.id}`);
        await setPassword(store, o.id, await readPassword(o.passwordStdin));
        appendAudit(store, { officer: null, action: 'officer.passwd', subject: o.id, outcome: 'ok', detail: { via: 'cli' } });
        out(`password of officer ${o.id} replaced`);
        process.exitCode = EXIT.ok;
      } finally {
        store.close();
      }
    });

  officers
    .command('disable')
    .description('stop an officer from logging in (their past actions stay attributed to them)')
    .requiredOption('--dir <dir>', 'agency directory')
    .requiredOption('--id <id>', 'officer id')
    .action((o: { dir: string; id: string }) => {
      const agency = loadAgency(o.dir, err);
      const store = openStore(agency.dir);
      try {
        disableOfficer(store, o.id);
        appendAudit(store, { officer: null, action: 'officer.disable', subject: o.id, outcome: 'ok', detail: { via: 'cli' } });
        out(`officer ${o.id} disabled; a running console ends their sessions at their next request`);
        process.exitCode = EXIT.ok;
      } finally {
        store.close();
      }
    });

  officers
    .command('list')
    .description('list officers')
    .requiredOption('--dir <dir>', 'agency directory')
    .option('--json', 'print JSON')
    .action((o: { dir: string; json?: boolean }) => {
      const agency = loadAgency(o.dir, err);
      const store = openStore(agency.dir);
      try {
        const list = listOfficers(store);
        if (o.json) out(JSON.stringify({ officers: list }));
        else if (list.length === 0) out('no officers (add one with `concordat officers add`)');
        else for (const x of list) out(`${x.id}\t${x.name}\t${x.disabled ? 'disabled' : 'active'}\tsince ${x.createdAt}`);
        process.exitCode = EXIT.ok;
      } finally {
        store.close();
      }
    });
}
