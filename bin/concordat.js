#!/usr/bin/env node
// The `concordat` command. Agency commands live in clients/, the coordinator's
// own commands (`concordat coordinator …`) in src/; the two share only protocol/.
import { existsSync, fstatSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dist = new URL('../dist/', import.meta.url);
if (!existsSync(fileURLToPath(new URL('clients/cli/main.js', dist)))) {
  console.error('concordat: the build output is missing; run `npm install` (or `npm run build`) in the project first.');
  process.exit(2);
}
const args = process.argv.slice(2);

// `sync` and `import` write the agency's store for long stretches. They run in
// a child process watched by this one, so that a store whose storage turns
// read-only under them (the kernel's SIGBUS on SQLite's mapped index) ends in
// an exit code and a message naming the cause (clients/cli/stopped.ts), not in
// a signal. The child dies with this process: the pipe on its fd 3 closes.
const SUPERVISED = new Set(['sync', 'import']);
/** fd 3 is the watcher's pipe only when the watcher started this process (the variable alone may be inherited). */
function watched() {
  if (process.env.CONCORDAT_SUPERVISOR_PID === undefined) return false;
  try {
    if (fstatSync(3).isSocket()) return true;
  } catch {
    // no fd 3
  }
  delete process.env.CONCORDAT_SUPERVISOR_PID;
  return false;
}
if (watched()) {
  const { Socket } = await import('node:net');
  const parent = new Socket({ fd: 3, readable: true, writable: false });
  parent.on('close', () => process.kill(process.pid, 'SIGKILL'));
  parent.on('error', () => process.kill(process.pid, 'SIGKILL'));
  parent.resume();
  parent.unref();
} else if (SUPERVISED.has(args[0] ?? '') && !args.includes('--help') && !args.includes('-h')) {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...args], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: { ...process.env, CONCORDAT_SUPERVISOR_PID: String(process.pid) },
  });
  // A stop asked of this process is passed on; the child decides how to end.
  const forwarded = new Set();
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(s, () => {
      forwarded.add(s);
      child.kill(s);
    });
  }
  const { signal, code } = await new Promise((resolve) => child.once('exit', (c, sig) => resolve({ code: c, signal: sig })));
  if (signal === null) process.exit(code ?? 1);
  const { constants } = await import('node:os');
  // Stopped as asked (Ctrl-C, a service manager's stop): the shell's convention, 128 + the signal.
  if (forwarded.has(signal)) process.exit(128 + (constants.signals[signal] ?? 0));
  const { explainStop } = await import(new URL('clients/cli/stopped.js', dist).href);
  process.exit(explainStop(args, signal));
}
const entry = args[0] === 'coordinator' ? 'src/cli/main.js' : 'clients/cli/main.js';
const { main } = await import(new URL(entry, dist).href);
process.exitCode = await main(args);
