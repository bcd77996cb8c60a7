import { Worker } from 'bullmq';

// A raw BullMQ worker process that does nothing with each job: the
// baseline the cluster section runs agentpool's workers against.
// argv: redis URL, key prefix, concurrency. Settings as agentpool's own
// worker makes them (src/cluster/worker-node.ts), so only the work differs.
const [url, prefix, concurrency] = process.argv.slice(2);
const worker = new Worker('noop', async () => 0, {
  connection: { url, maxRetriesPerRequest: null },
  prefix,
  concurrency: Number(concurrency),
  lockDuration: 5_000,
  stalledInterval: 5_000,
  drainDelay: 1,
  // As agentpool's worker keeps them: the parent counts completed jobs.
  removeOnComplete: { age: 3_600 },
  removeOnFail: { age: 3_600 },
});
await worker.waitUntilReady();
process.stdout.write('bullmq-noop ready\n');
process.once('SIGTERM', () => void worker.close().then(() => process.exit(0)));
