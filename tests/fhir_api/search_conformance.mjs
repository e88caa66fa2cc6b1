// Search conformance: node search_conformance.mjs BASE_URL
//
// For every search parameter the server's CapabilityStatement lists, builds query cases from the
// data the server holds (values present and absent, date prefixes and partial dates, string
// modifiers, :missing, :not, comma OR and repeated-parameter AND), computes the expected matches
// independently -- by evaluating the spec's own SearchParameter expression (hl7.fhir.r4.examples
// 4.0.1, Bundle-searchParams.json, found by the parameter's definition url) with fhirpath 5.2.2
// over every resource fetched from the server -- and compares them with the ids the server's
// search returns (following next links). Also checks _include/_revinclude, _sort and totals.
// Exits 1 with a diff on any difference.
//
// The comparison semantics follow http://hl7.org/fhir/R4/search.html and are written here a
// second time, not shared with the server: dates are ranges of their precision (ap = overlap),
// strings match case- and accent-insensitively from the start, tokens on code / system|code /
// |code / system|. Two interpretations are stated: `resolve() is T` is evaluated as "the literal
// reference names type T" (the server resolves nothing), and string search on a complex value
// (HumanName, Address) searches its text parts.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4/index.js';

const base = (process.argv[2] ?? '').replace(/\/$/, '');
if (!base) {
  console.error('usage: node search_conformance.mjs BASE_URL');
  process.exit(2);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const specBundle = JSON.parse(fs.readFileSync(
  path.join(here, 'node_modules/hl7.fhir.r4.examples/Bundle-searchParams.json'), 'utf8'));
const specByUrl = new Map(specBundle.entry.map((e) => [e.resource.url, e.resource]));
const maxCasesPerParam = Number(process.env.SEARCH_CONFORMANCE_CASES ?? 6);

let requests = 0;
async function getJson(url) {
  requests++;
  const r = await fetch(url, { headers: { Accept: 'application/fhir+json' } });
  const text = await r.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: r.status, body };
}

// Every page of a search: match ids, include resources, totals.
async function searchAll(type, query) {
  let url = `${base}/${type}?${query}`;
  const ids = [];
  const includes = [];
  let total;
  for (let pages = 0; url && pages < 1000; pages++) {
    const { status, body } = await getJson(url);
    if (status !== 200) return { status, body };
    if (total === undefined) total = body.total;
    for (const e of body.entry ?? []) {
      if ((e.search?.mode ?? 'match') === 'match') ids.push(e.resource.id);
      else includes.push(e.resource);
    }
    url = (body.link ?? []).find((l) => l.relation === 'next')?.url;
  }
  return { status: 200, ids, includes, total };
}

// The resources of every page of an unfiltered search.
async function listAll(type) {
  let url = `${base}/${type}?_count=1000`;
  const out = [];
  while (url) {
    const { status, body } = await getJson(url);
    if (status !== 200) break;
    for (const e of body.entry ?? []) out.push(e.resource);
    url = (body.link ?? []).find((l) => l.relation === 'next')?.url;
  }
  return out;
}

// ---- the spec's expression for one type, and the values it selects ----

function expressionFor(type, spec) {
  const alts = spec.expression.split(' | ').map((a) => a.replace(/^Resource\./, `${type}.`));
  const own = alts.filter((a) => a.startsWith(`${type}.`) || a.startsWith(`(${type}.`));
  return own.join(' | ').replace(/\.where\(resolve\(\) is (\w+)\)/g,
    (_, t) => `.where(reference.startsWith('${t}/'))`);
}

const nonText = new Set(['use', 'type', 'id', 'system', 'url', 'reference', 'extension', 'period']);
function stringsOf(node, out = []) {
  if (typeof node === 'string') out.push(node);
  else if (Array.isArray(node)) node.forEach((n) => stringsOf(n, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) if (!nonText.has(k)) stringsOf(v, out);
  }
  return out;
}
function tokensOf(node) {
  if (typeof node === 'string') return [{ system: null, code: node }];
  if (typeof node === 'boolean') return [{ system: null, code: String(node) }];
  if (!node || typeof node !== 'object') return [];
  if (Array.isArray(node.coding)) return node.coding.flatMap(tokensOf);
  const code = node.code ?? node.value;
  if (typeof code !== 'string') return [];
  return [{ system: node.system ?? '', code }];
}
function normRef(ref) {
  if (typeof ref !== 'string' || ref.startsWith('#')) return null;
  let parts = ref.split('/');
  if (parts.length >= 4 && parts[parts.length - 2] === '_history') parts = parts.slice(0, -2);
  return parts.length >= 2 ? `${parts[parts.length - 2]}/${parts[parts.length - 1]}` : null;
}
function refsOf(node) {
  const r = normRef(typeof node === 'string' ? node : node?.reference);
  return r ? [r] : [];
}
// A FHIR date/dateTime/instant as [low, high) in ms, of its precision.
function dateRange(s) {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(s);
  if (!m) return null;
  const [, y, mo, d, h, mi, sec, frac, tz] = m;
  const utc = (Y, M, D, H = 0, Mi = 0, S = 0) => Date.UTC(Y, M, D, H, Mi, S);
  if (!mo) return [utc(+y, 0, 1), utc(+y + 1, 0, 1)];
  if (!d) return [utc(+y, +mo - 1, 1), utc(+y, +mo, 1)];
  if (!h) return [utc(+y, +mo - 1, +d), utc(+y, +mo - 1, +d + 1)];
  let offset = 0;
  if (tz && tz !== 'Z') offset = (tz[0] === '+' ? 1 : -1) * (+tz.slice(1, 3) * 60 + +tz.slice(4)) * 60000;
  let low = utc(+y, +mo - 1, +d, +h, +mi, +(sec ?? 0)) - offset;
  let width = sec === undefined ? 60000 : 1000;
  if (frac) { low += Math.floor(+`0.${frac}` * 1000); width = frac.length >= 3 ? 1 : 10 ** (3 - frac.length); }
  return [low, low + width];
}
function rangesOf(node) {
  if (typeof node === 'string') { const r = dateRange(node); return r ? [r] : []; }
  if (!node || typeof node !== 'object') return [];
  if ('start' in node || 'end' in node) {
    const s = node.start ? dateRange(node.start) : null;
    const e = node.end ? dateRange(node.end) : null;
    return [[s ? s[0] : -Infinity, e ? e[1] : Infinity]];
  }
  const parts = [...(node.event ?? []).map(dateRange).filter(Boolean),
    ...(node.repeat?.boundsPeriod ? rangesOf(node.repeat.boundsPeriod) : [])];
  if (!parts.length) return [];
  return [[Math.min(...parts.map((p) => p[0])), Math.max(...parts.map((p) => p[1]))]];
}
const fold = (s) => s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase();

function valuesOf(kind, nodes) {
  switch (kind) {
    case 'token': return nodes.flatMap(tokensOf);
    case 'reference': return nodes.flatMap(refsOf);
    case 'date': return nodes.flatMap(rangesOf);
    case 'string': return nodes.flatMap((n) => stringsOf(n));
    default: return [];
  }
}

// ---- the spec's matching rules ----

function dateMatches(prefix, [a, b], [x, y]) {
  const eq = a <= x && y <= b;
  switch (prefix) {
    case 'eq': return eq;
    case 'ne': return !eq;
    case 'gt': return y > b;
    case 'lt': return x < a;
    case 'ge': return y > b || eq;
    case 'le': return x < a || eq;
    case 'sa': return x >= b;
    case 'eb': return y <= a;
    case 'ap': return x < b && a < y;
    default: throw new Error(`prefix ${prefix}`);
  }
}
function splitOr(value) { return value.split(/(?<!\\),/).map((v) => v.replace(/\\(.)/g, '$1')); }
// Whether a resource whose values for the parameter are `vals` matches name[:modifier]=value.
function expectMatch(kind, modifier, value, vals) {
  if (modifier === 'missing') return (vals.length === 0) === (value === 'true');
  const alternatives = splitOr(value);
  const any = alternatives.some((v) => {
    switch (kind) {
      case 'token': {
        const bar = v.indexOf('|');
        if (bar < 0) return vals.some((t) => t.code === v);
        const sys = v.slice(0, bar); const code = v.slice(bar + 1);
        return vals.some((t) => (t.system ?? '') === sys && (code === '' || t.code === code));
      }
      case 'reference': {
        const ref = v.includes('/') ? normRef(v) : (modifier && /^[A-Z]/.test(modifier) ? `${modifier}/${v}` : null);
        return vals.some((r) => (ref ? r === ref : r.split('/')[1] === v));
      }
      case 'date': {
        const prefix = /^[a-z]{2}/.test(v) ? v.slice(0, 2) : 'eq';
        const range = dateRange(/^[a-z]{2}/.test(v) ? v.slice(2) : v);
        return vals.some((r) => dateMatches(prefix, range, r));
      }
      case 'string':
        if (modifier === 'exact') return vals.some((s) => s === v);
        if (modifier === 'contains') return vals.some((s) => fold(s).includes(fold(v)));
        return vals.some((s) => fold(s).startsWith(fold(v)));
      default: return false;
    }
  });
  return modifier === 'not' ? !any : any;
}

// ---- query cases from the data ----

const enc = (s) => encodeURIComponent(s);
function fmtDate(ms, precision) {
  const iso = new Date(ms).toISOString();
  return { year: iso.slice(0, 4), month: iso.slice(0, 7), day: iso.slice(0, 10), second: `${iso.slice(0, 19)}Z` }[precision];
}
function casesFor(kind, all) {
  const pick = (arr) => [...new Set(arr)].slice(0, maxCasesPerParam);
  const cases = [['missing', 'true'], ['missing', 'false']];
  if (kind === 'token') {
    const toks = all.flat();
    for (const t of pick(toks.map((t) => JSON.stringify(t))).map((s) => JSON.parse(s))) {
      cases.push(['', t.code]);
      if (t.system !== null) cases.push(['', `${t.system}|${t.code}`], ['', `${t.system}|`]);
      else cases.push(['', `|${t.code}`]);
      cases.push(['not', t.code]);
    }
    const codes = pick(toks.map((t) => t.code));
    if (codes.length >= 2) cases.push(['', `${codes[0]},${codes[1]}`]);
    cases.push(['', 'no-such-code'], ['', 'http://example.org/none|x']);
  } else if (kind === 'reference') {
    for (const r of pick(all.flat())) cases.push(['', r], ['', r.split('/')[1]]);
    const refs = pick(all.flat());
    if (refs.length >= 2) cases.push(['', `${refs[0]},${refs[1]}`]);
    cases.push(['', 'Patient/no-such-id']);
  } else if (kind === 'date') {
    const lows = pick(all.flat().map((r) => r[0]).filter(Number.isFinite));
    for (const low of lows.slice(0, 2)) {
      for (const precision of ['year', 'day', 'second']) {
        for (const prefix of ['', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap']) {
          cases.push(['', `${prefix}${fmtDate(low, precision)}`]);
        }
      }
    }
    cases.push(['', '1900'], ['', 'gt2999-01-01']);
  } else if (kind === 'string') {
    for (const s of pick(all.flat())) {
      const words = s.split(/\s+/);
      cases.push(['', s.slice(0, 3).toUpperCase()], ['', fold(s).slice(0, 4)], ['exact', s],
        ['exact', s.toLowerCase()], ['contains', s.slice(1, 4)]);
      if (words.length > 1) cases.push(['', words[1]]);
    }
    cases.push(['', 'zzzz-no-such']);
  }
  return cases;
}

// ---- the run ----

const failures = [];
function fail(what, detail) {
  failures.push(what);
  console.log(`FAIL ${what}\n     ${detail}`);
}

const { status: metaStatus, body: capability } = await getJson(`${base}/metadata`);
if (metaStatus !== 200) {
  console.log(`FAIL GET /metadata: HTTP ${metaStatus}`);
  process.exit(1);
}
const types = capability.rest?.[0]?.resource ?? [];
let cases = 0;
for (const res of types) {
  const type = res.type;
  // AuditEvent is the access log: every request this script makes adds to it, so matches
  // expected from a listing are stale at once. services/fhir/fhir_access_log_test.cc covers it.
  if (type === 'AuditEvent') continue;
  const got = await searchAll(type, '_count=1000');
  if (got.status !== 200) { fail(`${type}: list`, `HTTP ${got.status}`); continue; }
  // Every resource of the type, from the unfiltered search; a sample is read back by id to
  // check that the search returns the current versions.
  const resources = await listAll(type);
  if (got.total !== undefined && got.total !== resources.length) {
    fail(`${type}: total`, `Bundle.total ${got.total}, ${resources.length} resources`);
  }
  for (const r of resources.slice(0, 3)) {
    const { status, body } = await getJson(`${base}/${type}/${r.id}`);
    if (status !== 200 || body.meta?.versionId !== r.meta?.versionId) {
      fail(`${type}/${r.id}`, `read gives HTTP ${status}, version ${body?.meta?.versionId}; search gave ${r.meta?.versionId}`);
    }
  }
  const params = res.searchParam ?? [];
  const evaluated = new Map();
  for (const p of params) {
    const spec = specByUrl.get(p.definition);
    if (!spec) { fail(`${type}.${p.name}`, `definition ${p.definition} is not a spec SearchParameter`); continue; }
    if (spec.type !== p.type || (spec.code !== p.name)) {
      fail(`${type}.${p.name}`, `spec says ${spec.code} of type ${spec.type}, server says ${p.name} of type ${p.type}`);
      continue;
    }
    const expr = expressionFor(type, spec);
    if (!expr) { fail(`${type}.${p.name}`, `the spec's expression has no part for ${type}`); continue; }
    const vals = new Map(resources.map((r) => [r.id, valuesOf(p.type, fhirpath.evaluate(r, expr, null, r4))]));
    evaluated.set(p.name, { kind: p.type, vals });
    for (const [modifier, value] of casesFor(p.type, [...vals.values()])) {
      const name = modifier ? `${p.name}:${modifier}` : p.name;
      const expected = resources.filter((r) => expectMatch(p.type, modifier, value, vals.get(r.id))).map((r) => r.id);
      await compare(type, `${enc(name)}=${enc(value)}`, expected);
    }
  }
  // AND: each pair of a reference and a token parameter, with values of one resource.
  const ref = params.find((p) => p.type === 'reference' && evaluated.get(p.name)?.vals);
  const tok = params.find((p) => p.type === 'token' && p.name !== '_id' && evaluated.get(p.name)?.vals);
  if (ref && tok) {
    for (const r of resources.slice(0, 5)) {
      const rv = evaluated.get(ref.name).vals.get(r.id)[0];
      const tv = evaluated.get(tok.name).vals.get(r.id)[0];
      if (!rv || !tv) continue;
      const expected = resources.filter((x) =>
        expectMatch('reference', '', rv, evaluated.get(ref.name).vals.get(x.id)) &&
        expectMatch('token', '', tv.code, evaluated.get(tok.name).vals.get(x.id))).map((x) => x.id);
      await compare(type, `${enc(ref.name)}=${enc(rv)}&${enc(tok.name)}=${enc(tv.code)}`, expected);
      await compare(type, `${enc(tok.name)}=${enc(tv.code)}&${enc(tok.name)}:not=${enc(tv.code)}`, []);
    }
  }
  await checkIncludes(type, res, resources);
  await checkSort(type, res, resources);
}

async function compare(type, query, expectedIds) {
  cases++;
  const got = await searchAll(type, `${query}&_count=200`);
  if (got.status !== 200) {
    fail(`${type}?${query}`, `HTTP ${got.status}: ${JSON.stringify(got.body).slice(0, 300)}`);
    return;
  }
  const want = new Set(expectedIds);
  const have = new Set(got.ids);
  const missing = [...want].filter((id) => !have.has(id));
  const extra = [...have].filter((id) => !want.has(id));
  const dup = got.ids.length !== have.size;
  if (missing.length || extra.length || dup) {
    fail(`${type}?${decodeURIComponent(query)}`,
      `expected ${want.size}, got ${have.size}; missing ${JSON.stringify(missing.slice(0, 5))}; ` +
      `unexpected ${JSON.stringify(extra.slice(0, 5))}${dup ? '; duplicates across pages' : ''}`);
  } else if (got.total !== undefined && got.total !== want.size) {
    fail(`${type}?${decodeURIComponent(query)}`, `Bundle.total ${got.total}, expected ${want.size}`);
  }
}

// _include of every include the server declares: exactly the referenced resources that exist.
async function checkIncludes(type, res, resources) {
  const sample = resources.slice(0, 3);
  for (const inc of res.searchInclude ?? []) {
    const [, param] = inc.split(':');
    const p = (res.searchParam ?? []).find((x) => x.name === param);
    if (!p) { fail(`${type} _include=${inc}`, 'not a declared parameter'); continue; }
    const expr = expressionFor(type, specByUrl.get(p.definition));
    for (const r of sample) {
      cases++;
      const got = await searchAll(type, `_id=${r.id}&_include=${enc(inc)}`);
      if (got.status !== 200) { fail(`${type}?_id=${r.id}&_include=${inc}`, `HTTP ${got.status}`); continue; }
      const refs = new Set(valuesOf('reference', fhirpath.evaluate(r, expr, null, r4)));
      const have = new Set(got.includes.map((x) => `${x.resourceType}/${x.id}`));
      const extra = [...have].filter((x) => !refs.has(x));
      const missing = [];
      for (const ref of refs) {
        if (have.has(ref) || ref === `${type}/${r.id}`) continue;
        const { status } = await getJson(`${base}/${ref}`);
        if (status === 200) missing.push(ref);
      }
      if (extra.length || missing.length) {
        fail(`${type}?_id=${r.id}&_include=${inc}`, `missing ${JSON.stringify(missing)}; unexpected ${JSON.stringify(extra)}`);
      }
    }
  }
}

// _sort by _lastUpdated both ways: the order of meta.lastUpdated, and the same set of ids.
async function checkSort(type, res, resources) {
  for (const sort of ['_lastUpdated', '-_lastUpdated']) {
    cases++;
    const got = await searchAll(type, `_sort=${sort}&_count=50`);
    if (got.status !== 200) { fail(`${type}?_sort=${sort}`, `HTTP ${got.status}`); continue; }
    const byId = new Map(resources.map((r) => [r.id, r.meta?.lastUpdated ?? '']));
    for (let i = 1; i < got.ids.length; i++) {
      const a = dateRange(byId.get(got.ids[i - 1]))?.[0]; const b = dateRange(byId.get(got.ids[i]))?.[0];
      if (sort.startsWith('-') ? a < b : a > b) {
        fail(`${type}?_sort=${sort}`, `${got.ids[i - 1]} (${byId.get(got.ids[i - 1])}) before ${got.ids[i]} (${byId.get(got.ids[i])})`);
        break;
      }
    }
    if (got.ids.length !== resources.length) fail(`${type}?_sort=${sort}`, `${got.ids.length} of ${resources.length}`);
  }
}

// Errors: a malformed value is 400; an unknown parameter is ignored unless handling=strict.
{
  cases += 3;
  const bad = await getJson(`${base}/CarePlan?date=2026-02-30`);
  if (bad.status !== 400) fail('CarePlan?date=2026-02-30', `HTTP ${bad.status}, expected 400`);
  const lenient = await getJson(`${base}/CarePlan?no-such-param=1`);
  if (lenient.status !== 200) fail('CarePlan?no-such-param=1', `HTTP ${lenient.status}, expected 200`);
  else if ((lenient.body.link ?? []).some((l) => l.relation === 'self' && l.url.includes('no-such-param'))) {
    fail('CarePlan?no-such-param=1', 'the ignored parameter is in the self link');
  }
  requests++;
  const strict = await fetch(`${base}/CarePlan?no-such-param=1`, { headers: { Prefer: 'handling=strict' } });
  if (strict.status !== 400) fail('CarePlan?no-such-param=1 (strict)', `HTTP ${strict.status}, expected 400`);
}

console.log(`${failures.length ? 'FAIL' : 'ok  '} search conformance: ${cases} cases over ${types.length} types, ` +
  `${requests} requests, ${failures.length} differences`);
process.exit(failures.length ? 1 : 0);
