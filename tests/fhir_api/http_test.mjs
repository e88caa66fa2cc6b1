// HTTP-level behaviour with Node's own fetch: conditional reads, content negotiation, _pretty,
// _summary/_elements, gzip, HEAD, oversized requests and unknown routes.
//   node http_test.mjs http://127.0.0.1:8080/fhir
import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import http from 'node:http';
import { check, finish, keep } from './lib/harness.mjs';

const base = process.argv[2];
const get = (path, headers = {}) => fetch(`${base}/${path}`, { headers });

// Raw request with node:http, which (unlike fetch) leaves Accept-Encoding alone.
function raw(path, headers) {
  return new Promise((resolve, reject) => {
    http.get(`${base}/${path}`, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

const firstPatient = await (await get('Patient?_count=1')).json();
const patient = firstPatient.entry[0].resource;

await check('read carries ETag and Last-Modified; conditional reads answer 304', async () => {
  const r = await get(`Patient/${patient.id}`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/fhir\+json/);
  const etag = r.headers.get('etag');
  assert.equal(etag, `W/"${patient.meta.versionId}"`);
  const lastModified = r.headers.get('last-modified');
  assert.ok(lastModified.endsWith('GMT'));
  keep('read', await r.json());
  assert.equal((await get(`Patient/${patient.id}`, { 'If-None-Match': etag })).status, 304);
  assert.equal((await get(`Patient/${patient.id}`, { 'If-Modified-Since': lastModified })).status, 304);
  assert.equal((await get(`Patient/${patient.id}`, { 'If-None-Match': 'W/"999999"' })).status, 200);
});

await check('406 for XML and Turtle, JSON in any of its spellings', async () => {
  for (const [path, headers] of [[`Patient/${patient.id}`, { Accept: 'application/fhir+xml' }],
    [`Patient/${patient.id}?_format=xml`, {}], [`Patient?_format=ttl`, {}]]) {
    const r = await get(path, headers);
    assert.equal(r.status, 406, path);
    assert.equal(keep('error-406', await r.json()).resourceType, 'OperationOutcome');
  }
  for (const [path, headers] of [[`Patient/${patient.id}?_format=json`, {}],
    [`Patient/${patient.id}?_format=application/fhir%2Bjson`, {}],
    [`Patient/${patient.id}`, { Accept: 'application/json' }],
    [`Patient/${patient.id}`, { Accept: 'application/fhir+json;fhirVersion=4.0' }]]) {
    assert.equal((await get(path, headers)).status, 200, path);
  }
});

await check('_pretty, _summary and _elements', async () => {
  const pretty = await (await get(`Patient/${patient.id}?_pretty=true`)).text();
  assert.ok(pretty.includes('\n  "resourceType"'));
  assert.deepEqual(JSON.parse(pretty), patient);
  const summary = keep('summary', await (await get(`Patient/${patient.id}?_summary=true`)).json());
  assert.ok(summary.meta.tag.some((t) => t.code === 'SUBSETTED'));
  const elements = keep('elements', await (await get(`Patient?_elements=gender&_count=3`)).json());
  for (const e of elements.entry.filter((x) => x.search.mode === 'match')) {
    const extra = Object.keys(e.resource).filter((k) => !['resourceType', 'id', 'meta', 'gender'].includes(k));
    assert.deepEqual(extra, []);
  }
});

await check('gzip when asked', async () => {
  const r = await raw('Patient?_count=20', { 'Accept-Encoding': 'gzip' });
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-encoding'], 'gzip');
  keep('gzip', JSON.parse(gunzipSync(r.body).toString()));
  const plain = await raw('Patient?_count=20', {});
  assert.equal(plain.headers['content-encoding'], undefined);
});

await check('HEAD has the headers of GET and no body', async () => {
  const r = await fetch(`${base}/Patient/${patient.id}`, { method: 'HEAD' });
  assert.equal(r.status, 200);
  assert.equal(r.headers.get('etag'), `W/"${patient.meta.versionId}"`);
  assert.equal((await r.text()).length, 0);
});

await check('oversized and malformed requests get OperationOutcomes, never a 500', async () => {
  const long = await get(`Patient?name=${'a'.repeat(9000)}`);
  assert.equal(long.status, 414);
  keep('error-414', await long.json());
  const bad = await get('Patient?name=%zz');
  assert.equal(bad.status, 400);
  keep('error-400', await bad.json());
  for (const path of ['Nope', 'Patient/x/y/z/w', `Patient/${patient.id}/$nope`, 'Patient/bad_id!']) {
    const r = await get(path);
    assert.ok(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
    keep('error', await r.json());
  }
  const health = await fetch(base.replace(/\/fhir$/, '/health'));
  assert.equal(health.status, 200);
  assert.equal((await health.json()).status, 'ready');
});

finish();
