// BullMQ beside fcemu (run by peers_bullmq.py): `pending` jobs delayed an hour added by 16 concurrent clients (the
// enqueue rate), then `count` jobs delayed 1-5 s added 15 ms apart and run by a Worker with its default settings;
// lateness = the processor's start minus the job's timestamp + delay. Prints one JSON line.
"use strict";
const { Queue, Worker } = require("bullmq");
const IORedis = require("ioredis");

const [url, pending, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const CONCURRENCY = 16;
const parsed = new URL(url);
const connection = { host: parsed.hostname, port: Number(parsed.port), db: Number(parsed.pathname.slice(1) || 0) };

async function main() {
  const admin = new IORedis(connection);
  await admin.flushdb();
  const queue = new Queue("bench", { connection });
  await queue.waitUntilReady();
  let next = 0;
  const client = async () => {
    while (next < pending) {
      next += 1;
      await queue.add("noop", {}, { delay: 3600 * 1000 });
    }
  };
  const started = process.hrtime.bigint();
  await Promise.all(Array.from({ length: CONCURRENCY }, client));
  const rate = pending / (Number(process.hrtime.bigint() - started) / 1e9);

  const lateness = [];
  let finished;
  const done = new Promise((resolve) => { finished = resolve; });
  const worker = new Worker("bench", async (job) => {
    lateness.push(Date.now() - (job.timestamp + job.opts.delay));
    if (lateness.length === count) finished();
  }, { connection });
  await worker.waitUntilReady();
  for (let index = 0; index < count; index += 1) {
    await queue.add("noop", {}, { delay: 1000 * (1 + (index % 5)) });
    await new Promise((resolve) => setTimeout(resolve, 15));  // spreads due times, as fcemu's run does
  }
  await done;
  await worker.close();
  await queue.close();
  await admin.flushdb();
  await admin.quit();
  const version = require("bullmq/package.json").version;
  console.log(JSON.stringify({ version, rate, lateness }));
}

main().catch((error) => { console.error(error); process.exit(1); });
