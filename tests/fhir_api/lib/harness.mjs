// Shared by the FHIR API client tests: numbered checks, and every response body kept in
// $FHIR_API_DUMP_DIR for run.sh to validate with FHIR.js and Medplum.
import fs from 'node:fs';
import path from 'node:path';

let dumped = 0;
let failures = 0;

export function keep(name, body) {
  const dir = process.env.FHIR_API_DUMP_DIR;
  if (!dir || body === undefined || body === null || typeof body !== 'object') return body;
  dumped++;
  const file = `${name.replace(/[^A-Za-z0-9_-]/g, '_')}-${String(dumped).padStart(4, '0')}.json`;
  fs.writeFileSync(path.join(dir, file), JSON.stringify(body));
  return body;
}

// Values that were sent in query strings and must never appear in the server's log.
export function recordSecret(value) {
  const dir = process.env.FHIR_API_DUMP_DIR;
  if (dir) fs.appendFileSync(path.join(dir, '..', 'secrets.txt'), `${value}\n`);
}

export async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures++;
    console.log(`FAIL ${name}: ${e.stack ?? e}`);
    if (e.response) console.log(`     response ${e.response.status}: ${JSON.stringify(e.response.data)}`);
  }
}

// The error a fhir-kit-client call threw: its HTTP status and OperationOutcome body.
export async function expectError(promise, status) {
  try {
    await promise;
  } catch (e) {
    if (!e.response) throw e;
    if (e.response.status !== status) {
      throw new Error(`expected HTTP ${status}, got ${e.response.status}: ${JSON.stringify(e.response.data)}`);
    }
    if (e.response.data?.resourceType !== 'OperationOutcome') {
      throw new Error(`error body is not an OperationOutcome: ${JSON.stringify(e.response.data)}`);
    }
    keep(`error-${status}`, e.response.data);
    return e.response.data;
  }
  throw new Error(`expected HTTP ${status}, but the call succeeded`);
}

export function finish() {
  console.log(failures === 0 ? 'all checks passed' : `${failures} checks failed`);
  process.exit(failures === 0 ? 0 : 1);
}
