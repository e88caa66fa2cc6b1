// The FHIR API benchmark: autocannon (pinned in tests/fhir_api) against a running FHIR server,
// and in the same run against carehub-http-ceiling answering a fixed body of the same size as
// the reads (the HTTP stack's own ceiling on this machine). Prints one table.
//
//   node fhir_bench.mjs BASE_URL CEILING_BINARY [--duration 10] [--connections 64]
//       [--search_connections 8] [--rows all|read]
//       [--versus OTHER_BASE_URL [--pairs 10] [--slice_seconds 3]]
// Every FHIR request names its agent (X-Carehub-User/-Organization/-Care-Unit), as a client of a
// hub that records its reads in the access log does. --rows read measures the reads alone (no
// ceiling, search or history).
// --versus compares BASE_URL with a second server holding the same data (fhir_bench.sh: the same
// region served with the access log off): reads go to one and then the other in short slices,
// in pairs whose order alternates (off-on, on-off, ...), so that both sides see the same moments
// of a machine whose speed drifts by tens of percent within minutes. Prints each pair's on/off
// ratio and `bench name=read-access-log`: the ratio of the two sides' total requests over their
// total time, with the median, lowest and highest pair.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const require = createRequire(path.join(root, 'tests/fhir_api/package.json'));
const autocannon = require('autocannon');

const [base, ceilingBinary] = process.argv.slice(2);
const stringFlag = (name) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const flag = (name, fallback) => {
  const value = stringFlag(name);
  return value === undefined ? fallback : Number(value);
};
const duration = flag('duration', 10);
const connections = flag('connections', 64);
const searchConnections = flag('search_connections', 8);
const versus = stringFlag('versus');
const pairs = flag('pairs', 10);
const sliceSeconds = flag('slice_seconds', 3);
const readsOnly = stringFlag('rows') === 'read';
const agent = {
  'X-Carehub-User': 'SE2321000016-U1234',
  'X-Carehub-Organization': 'SE2321000016',
  'X-Carehub-Care-Unit': 'SE2321000016-E5678',
};

async function json(url) {
  const r = await fetch(url, { headers: agent });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

// Up to `n` resources of a type, following next links.
async function collect(type, n) {
  const out = [];
  let url = `${base}/${type}?_count=500`;
  while (url && out.length < n) {
    const b = await json(url);
    out.push(...(b.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource));
    url = b.link?.find((l) => l.relation === 'next')?.url;
  }
  return out.slice(0, n);
}

function load(name, origin, paths, conns, seconds = duration) {
  let i = 0;
  return new Promise((resolve, reject) => {
    autocannon({
      url: origin,
      connections: conns,
      duration: seconds,
      headers: agent,
      requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }) }],
    }, (err, result) => (err ? reject(err) : resolve({ name, conns, result })));
  });
}

async function startCeiling(bodyBytes) {
  const portFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ceiling-')), 'port');
  const child = spawn(ceilingBinary, ['--http_address=127.0.0.1:0', `--http_port_file=${portFile}`,
    `--body_bytes=${bodyBytes}`, `--threads=${flag('threads', 2)}`], { stdio: ['ignore', 'ignore', 'ignore'] });
  for (let t = 0; t < 100 && !fs.existsSync(portFile); t++) await new Promise((r) => setTimeout(r, 50));
  const port = fs.readFileSync(portFile, 'utf8').trim();
  return { child, origin: `http://127.0.0.1:${port}` };
}

const origin = new URL(base).origin;
const basePath = new URL(base).pathname;
const plans = await collect('CarePlan', 2000);
if (plans.length === 0) throw new Error('no CarePlans: is the data dir projected?');
const readPaths = plans.map((p) => `${basePath}/CarePlan/${p.id}`);
const searchPaths = plans.map((p) => `${basePath}/CarePlan?${p.subject.reference.replace('Patient/', 'patient=')}&_include=CarePlan:care-team`);
const historyPaths = plans.map((p) => `${basePath}/CarePlan/${p.id}/_history`);
let bytes = 0;
for (const p of readPaths.slice(0, 200)) {
  bytes += (await (await fetch(origin + p, { headers: agent })).arrayBuffer()).byteLength;
}
const readBytes = Math.round(bytes / Math.min(200, readPaths.length));

// Alternating slices of reads against `origin` (on) and `versus` (off); see the header.
async function compare() {
  const { origin: other, pathname: otherBase } = new URL(versus);
  const otherPaths = readPaths.map((p) => p.replace(basePath, otherBase));
  await load('warm-up', other, otherPaths, connections);
  const sides = [
    { name: 'off', origin: other, paths: otherPaths, requests: 0, seconds: 0 },
    { name: 'on', origin, paths: readPaths, requests: 0, seconds: 0 },
  ];
  const ratios = [];
  console.log(`\nreads of CarePlan by id, ${connections} connections, ${pairs} pairs of ` +
    `${sliceSeconds} s slices, the order alternating\n`);
  console.log('| pair | order | access log off, req/s | access log on, req/s | on/off |');
  console.log('| ---: | --- | ---: | ---: | ---: |');
  for (let pair = 1; pair <= pairs; pair++) {
    const order = pair % 2 ? [sides[0], sides[1]] : [sides[1], sides[0]];
    const rate = {};
    for (const side of order) {
      const { result } = await load(side.name, side.origin, side.paths, connections, sliceSeconds);
      if (result.errors > 0 || result.non2xx > 0) {
        throw new Error(`${side.name}: ${result.errors} errors, ${result.non2xx} non-2xx answers`);
      }
      side.requests += result.requests.total;
      side.seconds += result.duration;
      rate[side.name] = result.requests.total / result.duration;
    }
    ratios.push(rate.on / rate.off);
    console.log(`| ${pair} | ${order.map((s) => s.name).join('-')} | ${Math.round(rate.off)} | ` +
      `${Math.round(rate.on)} | ${(rate.on / rate.off).toFixed(3)} |`);
  }
  ratios.sort((a, b) => a - b);
  const n = ratios.length;
  const median = n % 2 ? ratios[(n - 1) / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
  const [off, on] = sides.map((s) => s.requests / s.seconds);
  console.log(`bench name=read-access-log pairs=${n} off_rps=${Math.round(off)} ` +
    `on_rps=${Math.round(on)} ratio=${(on / off).toFixed(3)} median_pair=${median.toFixed(3)} ` +
    `min_pair=${ratios[0].toFixed(3)} max_pair=${ratios[n - 1].toFixed(3)}`);
}

const ceiling = readsOnly ? null : await startCeiling(readBytes);
const runs = [];
try {
  await load('warm-up', origin, readPaths, connections);
  if (versus) await compare();
  if (ceiling) runs.push(await load(`trivial Beast handler (${readBytes} B body)`, ceiling.origin, ['/x'], connections));
  runs.push(await load('read CarePlan by id', origin, readPaths, connections));
  if (!readsOnly) {
    runs.push(await load('search CarePlan?patient=&_include=CarePlan:care-team', origin, searchPaths, searchConnections));
    runs.push(await load('history of a CarePlan', origin, historyPaths, searchConnections));
  }
} finally {
  if (ceiling) ceiling.child.kill('SIGTERM');
}

const ceilingRate = ceiling ? runs[0].result.requests.average : NaN;
console.log(`\nFHIR API benchmark: ${plans.length} CarePlans sampled, ${duration} s per row, ` +
  `${os.cpus().length} cores, autocannon 8.0.0 on the same machine\n`);
console.log('| what | connections | req/s | p50 ms | p99 ms | non-2xx | errors | vs ceiling |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const { name, conns, result } of runs) {
  const ratio = (result.requests.average / ceilingRate).toFixed(2);
  console.log(`| ${name} | ${conns} | ${Math.round(result.requests.average)} | ${result.latency.p50} | ` +
    `${result.latency.p99} | ${result.non2xx} | ${result.errors} | ${ratio} |`);
}
for (const { name, result } of runs) {
  const slug = name.split(' ')[0].toLowerCase();
  console.log(`bench name=${slug} rps=${Math.round(result.requests.average)} p50_ms=${result.latency.p50} ` +
    `p99_ms=${result.latency.p99} ratio=${(result.requests.average / ceilingRate).toFixed(3)}`);
}
