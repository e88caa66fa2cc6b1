// fhir-kit-client (a third-party FHIR client) against carehub's FHIR API: capability statement,
// read, vread, search (GET and POST), paging, includes, instance and type history, $everything,
// and the errors a client meets.
//   node client_test.mjs http://127.0.0.1:8080/fhir
import assert from 'node:assert/strict';
import { Client } from 'fhir-kit-client';
import { check, expectError, finish, keep, recordSecret } from './lib/harness.mjs';

const base = process.argv[2];
const client = new Client({ baseUrl: base });

// Every page of a search, followed through the Bundles' next links.
async function allPages(first, name) {
  const pages = [keep(name, first)];
  let page = first;
  while (page.link?.some((l) => l.relation === 'next')) {
    page = keep(name, await client.nextPage({ bundle: page }));
    pages.push(page);
    assert.ok(pages.length < 1000, 'paging does not end');
  }
  return pages;
}
const matches = (pages) =>
  pages.flatMap((p) => (p.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource));

let patients = [];
let plan;

await check('metadata lists the projected types, read-only', async () => {
  const cs = keep('metadata', await client.capabilityStatement());
  assert.equal(cs.resourceType, 'CapabilityStatement');
  assert.equal(cs.fhirVersion, '4.0.1');
  const types = cs.rest[0].resource.map((r) => r.type);
  for (const t of ['Patient', 'CarePlan', 'CareTeam', 'Encounter', 'Task', 'Goal']) assert.ok(types.includes(t), t);
  for (const r of cs.rest[0].resource) {
    const codes = r.interaction.map((i) => i.code);
    assert.ok(!codes.includes('create') && !codes.includes('update') && !codes.includes('delete'));
  }
});

await check('search Patient pages through every patient once, total agrees', async () => {
  const pages = await allPages(await client.search({ resourceType: 'Patient', searchParams: { _count: 7 } }),
    'patient-page');
  patients = matches(pages);
  assert.ok(patients.length >= 10, `only ${patients.length} patients`);
  assert.equal(new Set(patients.map((p) => p.id)).size, patients.length, 'a patient appears twice');
  if (pages[0].total !== undefined) assert.equal(pages[0].total, patients.length);
  assert.ok(pages.length > 1);
  for (const p of pages) assert.equal(p.type, 'searchset');
});

await check('read and vread each of some patients', async () => {
  for (const p of patients.slice(0, 5)) {
    const read = keep('patient', await client.read({ resourceType: 'Patient', id: p.id }));
    assert.deepEqual(read, p);
    const v1 = keep('patient-v1', await client.vread({ resourceType: 'Patient', id: p.id, version: '1' }));
    assert.equal(v1.meta.versionId, '1');
    assert.equal(v1.id, p.id);
  }
});

await check('search by identifier finds exactly that patient', async () => {
  const p = patients.find((x) => x.identifier?.length);
  assert.ok(p, 'no patient has an identifier');
  const { system, value } = p.identifier[0];
  recordSecret(value);
  const bundle = keep('by-identifier', await client.search({
    resourceType: 'Patient', searchParams: { identifier: `${system}|${value}` } }));
  assert.deepEqual(matches([bundle]).map((x) => x.id), [p.id]);
});

await check('CarePlan?patient=&_include=CarePlan:care-team, by GET and by POST', async () => {
  const p = patients[0];
  const searchParams = { patient: p.id, _include: 'CarePlan:care-team' };
  const get = keep('careplan-search', await client.search({ resourceType: 'CarePlan', searchParams }));
  const post = keep('careplan-post', await client.search({ resourceType: 'CarePlan', searchParams,
    options: { postSearch: true } }));
  assert.deepEqual(post.entry, get.entry);
  const plans = matches([get]);
  assert.ok(plans.length >= 1, 'the patient has no plan');
  for (const cp of plans) assert.equal(cp.subject.reference, `Patient/${p.id}`);
  const included = get.entry.filter((e) => e.search.mode === 'include').map((e) => e.resource);
  assert.ok(included.some((r) => r.resourceType === 'CareTeam'), 'no CareTeam included');
  for (const e of get.entry) assert.equal(e.fullUrl, `${base}/${e.resource.resourceType}/${e.resource.id}`);
  plan = plans[0];
});

await check('instance history of a CarePlan, newest first, ending at version 1', async () => {
  const history = keep('careplan-history', await client.history({ resourceType: 'CarePlan', id: plan.id }));
  assert.equal(history.type, 'history');
  const versions = history.entry.map((e) => Number(e.resource.meta.versionId));
  assert.deepEqual(versions, [...versions].sort((a, b) => b - a));
  assert.equal(versions.at(-1), 1);
  assert.equal(String(versions[0]), plan.meta.versionId);
  for (const e of history.entry) assert.equal(e.response.etag, `W/"${e.resource.meta.versionId}"`);
});

await check('type history of CarePlan pages with _count', async () => {
  const first = await client.typeHistory({ resourceType: 'CarePlan', options: {} });
  keep('careplan-type-history', first);
  assert.equal(first.type, 'history');
  const paged = await client.request('CarePlan/_history?_count=5');
  const pages = await allPages(paged, 'careplan-type-history-page');
  const entries = pages.flatMap((p) => p.entry ?? []);
  assert.ok(pages.length > 1 && entries.length > 5);
  const keys = entries.map((e) => `${e.resource.id}/${e.resource.meta.versionId}`);
  assert.equal(new Set(keys).size, keys.length, 'a version appears twice');
});

await check('Patient/$everything holds the patient and its plan', async () => {
  const p = patients[0];
  const bundle = await client.operation({ name: '$everything', resourceType: 'Patient', id: p.id, method: 'GET' });
  const pages = await allPages(bundle, 'everything');
  const types = new Set(pages.flatMap((b) => (b.entry ?? []).map((e) => e.resource.resourceType)));
  for (const t of ['Patient', 'CarePlan', 'CareTeam']) assert.ok(types.has(t), `no ${t} in ${[...types]}`);
});

await check('errors are OperationOutcomes with the right status', async () => {
  await expectError(client.read({ resourceType: 'Patient', id: 'no-such-patient' }), 404);
  await expectError(client.read({ resourceType: 'Medication', id: 'x' }), 404);
  await expectError(client.vread({ resourceType: 'Patient', id: patients[0].id, version: '999' }), 404);
  await expectError(client.create({ resourceType: 'Patient', body: { resourceType: 'Patient' } }), 405);
  await expectError(client.update({ resourceType: 'Patient', id: patients[0].id, body: patients[0] }), 405);
  await expectError(client.delete({ resourceType: 'Patient', id: patients[0].id }), 405);
  await expectError(client.search({ resourceType: 'Patient', searchParams: { nonsense: 'x' },
    options: { headers: { Prefer: 'handling=strict' } } }), 400);
  await expectError(client.search({ resourceType: 'CarePlan', searchParams: { date: 'not-a-date' } }), 400);
});

await check('lenient search reports an ignored parameter and leaves it out of self', async () => {
  const bundle = keep('lenient', await client.search({ resourceType: 'Patient', searchParams: { nonsense: 'x', _count: 1 } }));
  const self = bundle.link.find((l) => l.relation === 'self').url;
  assert.ok(!self.includes('nonsense'), self);
  const outcome = bundle.entry.find((e) => e.search.mode === 'outcome');
  assert.ok(outcome && JSON.stringify(outcome.resource).includes('nonsense'));
});

finish();
