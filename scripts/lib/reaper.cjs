// The supervisor's dead man's switch. `npm run up` (stack.cjs) starts it detached, in its own process
// group, with an IPC channel, and tells it the pid of every child it starts. If the channel closes
// without a release, the supervisor is gone without stopping them (kill -9, a crash, an OOM kill):
// the children would run on as orphans (a GPU worker keeps training), so the reaper stops them
// itself, the same way the supervisor would (SIGTERM, SIGINT for Postgres, SIGKILL after a grace period).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const GRACE_MS = Number(process.env.LETHE_REAPER_GRACE_MS || 10_000);
/** name -> { pid, group }: group = the child leads its own process group (kill it whole). */
const watched = new Map();
const postgresDirs = new Set();
let released = false;

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
};

function signal(target, name) {
  try {
    process.kill(target.group ? -target.pid : target.pid, name);
  } catch {
    // already gone
  }
}

/** The postmaster's pid, from the first line of postmaster.pid in the cluster's directory. */
function postmasterPid(dir) {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

async function reap() {
  const targets = [...watched.values()].map((t) => ({ ...t, signal: 'SIGTERM' }));
  for (const dir of postgresDirs) {
    const pid = postmasterPid(dir);
    // SIGINT: Postgres's fast shutdown (SIGTERM would wait for the service's connections to close).
    if (pid) targets.push({ pid, group: false, signal: 'SIGINT' });
  }
  for (const target of targets) signal(target, target.signal);
  const deadline = Date.now() + GRACE_MS;
  while (Date.now() < deadline && targets.some((t) => alive(t.pid))) await new Promise((r) => setTimeout(r, 100));
  for (const target of targets) if (alive(target.pid)) signal(target, 'SIGKILL');
}

process.on('message', (message) => {
  if (message.watch) watched.set(message.watch.name, message.watch);
  if (message.unwatch) watched.delete(message.unwatch);
  if (message.postgresDir) postgresDirs.add(message.postgresDir);
  if (message.release) released = true;
});
process.on('disconnect', () => {
  if (released) process.exit(0);
  reap().finally(() => process.exit(0));
});
