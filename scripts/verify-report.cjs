// Verifies a downloaded compliance report offline:
//   node scripts/verify-report.cjs report.json signing-key.pem
// report.json: GET /reports/requests/<id>.json (or a version report); signing-key.pem: GET /reports/signing-key,
// obtained once from a channel you trust. Exit 0: the signature holds over every byte of the report,
// including the event chain head it names; exit 1: it does not; exit 2: usage or unreadable files.
// Uses the project's own canonical JSON (run `npm run build` once).
'use strict';
const fs = require('node:fs');
const path = require('node:path');

function main() {
  const [reportFile, keyFile] = process.argv.slice(2);
  if (!reportFile || !keyFile) {
    process.stderr.write('usage: node scripts/verify-report.cjs report.json signing-key.pem\n');
    return 2;
  }
  const { verifySignedDocument } = require(path.join(__dirname, '..', 'dist', 'src', 'common', 'crypto.js'));
  let report;
  let key;
  try {
    report = JSON.parse(fs.readFileSync(reportFile, 'utf8'));
    key = fs.readFileSync(keyFile, 'utf8');
  } catch (err) {
    process.stderr.write(`cannot read the report or the key: ${err.message}\n`);
    return 2;
  }
  let valid = false;
  try {
    valid = verifySignedDocument(report, key);
  } catch (err) {
    process.stderr.write(`cannot verify: ${err.message}\n`);
  }
  if (!valid) {
    process.stdout.write('INVALID: the report was changed or was not signed with this key\n');
    return 1;
  }
  const head = report.chainHead ?? {};
  process.stdout.write(`valid: signed with key sha256 ${report.signature.publicKeySha256}; event chain head at issue: seq ${head.seq}, hash ${head.hash}\n`);
  return 0;
}

process.exitCode = main();
