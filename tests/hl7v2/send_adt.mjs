// Sends HL7 v2 messages over MLLP with a third-party client (node-hl7-client, pinned in
// package.json) and prints what each ACK said, as JSON on stdout:
//   node send_adt.mjs <input.json>
//   input:  {"port": 2575, "messages": [{"text": "MSH|...", "encoding": "utf-8"|"latin1"}]}
//   output: [{"msa1": "AA", "msa2": "MSG0001", "err8": ""}, ...]
// Messages go one at a time, each after the previous ACK, as an EHR's interface engine sends.
// A message's text is JSON, so Latin-1 bytes arrive as the code points U+0080..U+00FF and go out
// as single bytes with encoding "latin1". Exit code 1 if an ACK does not arrive in 30 s.
import { readFileSync } from 'node:fs';
import { Client } from 'node-hl7-client';

const input = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const client = new Client({ host: '127.0.0.1' });
const connections = new Map();
let pending = null;

function connection(encoding) {
  if (!connections.has(encoding)) {
    connections.set(encoding, client.createConnection(
      { port: input.port, encoding, waitAck: true, maxConnectionAttempts: 5 },
      async (res) => {
        const msg = res.getMessage();
        const ack = {
          msa1: msg.get('MSA.1').toString(),
          msa2: msg.get('MSA.2').toString(),
          err8: msg.get('ERR.8').toString(),
        };
        if (pending) pending(ack);
      }));
  }
  return connections.get(encoding);
}

const results = [];
for (const m of input.messages) {
  const conn = connection(m.encoding || 'utf-8');
  const ack = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ACK within 30 s')), 30000);
    pending = (a) => { clearTimeout(timer); resolve(a); };
    // The client sends whatever toString() gives: the message exactly as written.
    conn.sendMessage({ toString: () => m.text }).catch(reject);
  }).catch((e) => { console.error(e.message); process.exit(1); });
  results.push(ack);
}
console.log(JSON.stringify(results));
for (const c of connections.values()) await c.close();
await client.closeAll?.();
process.exit(0);
