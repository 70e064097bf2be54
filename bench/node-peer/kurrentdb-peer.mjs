// The official Node.js client (@kurrent/kurrentdb-client) as the EventStoreDB peer of the benchmark: the same
// workloads and payload as the provider, on the same node. Installed and started by the bench
// (bench/EventStore.Providers.Bench/Targets/KurrentNodePeer.cs); prints one JSON line per workload:
//   {"workload":"append-1w","operations":N,"events":N,"seconds":S,"method":"..."}
// Arguments: --connection CS --workloads a,b --duration-ms N --stream-read-size N --all-read-size N
//            --payload-base64 B --event-type T --run ID
import { KurrentDBClient, jsonEvent, NO_STREAM, START, END, FORWARDS, BACKWARDS } from "@kurrent/kurrentdb-client";
import { randomUUID } from "node:crypto";

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, "")] = process.argv[i + 1];
const durationMs = Number(args["duration-ms"]);
const workloads = new Set(args.workloads.split(","));
const payload = JSON.parse(Buffer.from(args["payload-base64"], "base64").toString("utf8"));
const type = args["event-type"];
const run = args.run;
const client = KurrentDBClient.connectionString(args.connection);
const event = () => jsonEvent({ id: randomUUID(), type, data: payload });

function report(workload, operations, events, seconds, method) {
  process.stdout.write(JSON.stringify({ workload, operations, events, seconds, method }) + "\n");
}

// Runs op(writer, i) on `writers` loops for the duration; op returns the number of events it handled.
async function timed(writers, op) {
  let operations = 0, events = 0;
  const started = process.hrtime.bigint();
  const deadline = started + BigInt(durationMs) * 1000000n;
  await Promise.all(Array.from({ length: writers }, async (_, w) => {
    for (let i = 0; process.hrtime.bigint() < deadline; i++) {
      events += await op(w, i);
      operations++;
    }
  }));
  return { operations, events, seconds: Number(process.hrtime.bigint() - started) / 1e9 };
}

async function appends(workload, writers) {
  // Distinct streams per writer, each append checks the expected revision, as the provider's workload does.
  const last = Array(writers).fill(null);
  const r = await timed(writers, async (w) => {
    const result = await client.appendToStream(`Bench${workload}-${run}-w${w}`, [event()],
      { streamState: last[w] === null ? NO_STREAM : last[w] });
    last[w] = result.nextExpectedRevision;
    return 1;
  });
  report(workload, r.operations, r.events, r.seconds, `appendToStream of 1 event, expected revision checked, ${writers} writer(s) on distinct streams`);
}

async function batches() {
  let last = null, stream = 0, inStream = 0;
  const r = await timed(1, async () => {
    if (inStream >= 10) { stream++; inStream = 0; last = null; }
    const batch = Array.from({ length: 100 }, event);
    const result = await client.appendToStream(`BenchBatch-${run}-${stream}`, batch, { streamState: last === null ? NO_STREAM : last });
    last = result.nextExpectedRevision;
    inStream++;
    return 100;
  });
  report("batch-100", r.operations, r.events, r.seconds, "appendToStream of 100 events, 1 writer");
}

async function fill(stream, total) {
  let last = null;
  for (let written = 0; written < total; written += 100) {
    const batch = Array.from({ length: Math.min(100, total - written) }, event);
    last = (await client.appendToStream(stream, batch, { streamState: last === null ? NO_STREAM : last })).nextExpectedRevision;
  }
}

async function readStream(size) {
  const stream = `BenchRead-${run}-stream`;
  await fill(stream, size);
  const r = await timed(1, async () => {
    let n = 0;
    for await (const _ of client.readStream(stream, { direction: FORWARDS, fromRevision: START })) n++;
    if (n !== size) throw new Error(`read ${n} events of the ${size} written`);
    return n;
  });
  report("read-stream", r.operations, r.events, r.seconds, `readStream forwards of one ${size}-event stream`);
}

async function readAll(size) {
  // The events this run adds to $all, read from the head before they were written, skipping other streams.
  let head = null;
  for await (const e of client.readAll({ direction: BACKWARDS, fromPosition: END, maxCount: 1 })) head = e.event?.position ?? null;
  for (let s = 0; s * 100 < size; s++) await fill(`BenchAll-${run}-${s}`, Math.min(100, size - s * 100));
  const prefix = `BenchAll-${run}-`;
  const r = await timed(1, async () => {
    let n = 0;
    const options = { fromPosition: head ?? START, direction: FORWARDS };
    for await (const e of client.readAll(options)) if (e.event && e.event.streamId.startsWith(prefix)) n++;
    if (n !== size) throw new Error(`read ${n} of the ${size} events written to $all`);
    return n;
  });
  report("read-all", r.operations, r.events, r.seconds, `readAll forwards over ${size} events written after the head`);
}

try {
  if (workloads.has("append-1w")) await appends("append-1w", 1);
  if (workloads.has("append-8w")) await appends("append-8w", 8);
  if (workloads.has("batch-100")) await batches();
  if (workloads.has("read-stream")) await readStream(Number(args["stream-read-size"]));
  if (workloads.has("read-all")) await readAll(Number(args["all-read-size"]));
} finally {
  await client.dispose();
}
