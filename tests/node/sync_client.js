// How the site's Node.js back end asks anipipe to sync a title and waits for the answer:
// a sync request to anilibria.sync_requests (key = title id, so it lands in the partition that
// owns the title), the result from anilibria.sync_results (key = correlation id). workers/sync/README.md shows
// SyncClient; the command line below is what the integration test runs.
//
//   node sync_client.js --brokers 127.0.0.1:9092 --title-id 9873 [--force] [--timeout-ms 15000]
//        [--malformed] [--requests-topic anilibria.sync_requests] [--results-topic anilibria.sync_results]
// prints {"request","elapsed_ms","result"} per request and exits 0, or exits 1 on a timeout.
// --malformed then sends the same request with the title id as a string (as a URL parameter gives
// it), which sync refuses: its `rejected` result, with the reason, ends the wait at once.
'use strict';
const { Kafka, Partitioners, logLevel } = require('kafkajs');
const { randomUUID } = require('crypto');

class SyncClient {
  constructor({ brokers, requestsTopic = 'anilibria.sync_requests', resultsTopic = 'anilibria.sync_results' }) {
    this.kafka = new Kafka({ clientId: 'node-backend', brokers, logLevel: logLevel.WARN });
    this.requestsTopic = requestsTopic;
    this.resultsTopic = resultsTopic;
    // Java's murmur2 partitioner, like anipipe's producers (librdkafka murmur2_random): the request
    // lands in the partition of the title's upstream events, which the same sync instance owns.
    this.producer = this.kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
    // Every back-end instance reads every result (its own group), from the moment it started.
    this.consumer = this.kafka.consumer({ groupId: `node-backend-results-${randomUUID()}` });
    this.pending = new Map();  // correlation id -> resolve
  }

  async start() {
    await this.producer.connect();
    await this.consumer.connect();
    // Joining the group is not enough: kafkajs resolves "latest" for the partitions only in its
    // first fetch after the join, and a result written before that would be skipped (seen as a
    // timeout in CI once). After the first fetch completes, every later result reaches us.
    const joined = new Promise((resolve) => {
      const removeJoin = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        removeJoin();
        const removeFetch = this.consumer.on(this.consumer.events.FETCH, () => {
          removeFetch();
          resolve();
        });
      });
    });
    await this.consumer.subscribe({ topic: this.resultsTopic, fromBeginning: false });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        const correlationId = message.key && message.key.toString();
        const resolve = this.pending.get(correlationId);
        if (!resolve) return;  // another instance's request
        this.pending.delete(correlationId);
        resolve(JSON.parse(message.value.toString()));
      },
    });
    await joined;  // positions resolved: results published from now on reach us
  }

  /**
   * Resolves with {correlation_id, title_id, status, reason?, new_episodes?, completed_at}. A
   * request sync refuses (it breaks the sync_requests schema, e.g. a title id that is a string)
   * resolves at once with status 'rejected' and the reason (title_id only when it had a usable one):
   * it is dead-lettered and never retried, so waiting longer would not change the answer.
   */
  async syncTitle(titleId, { force = false, priority = 'high', timeoutMs = 15000 } = {}) {
    const correlationId = randomUUID();
    const result = new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(correlationId);
        reject(new Error(`no sync result for title ${titleId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(correlationId, (r) => { clearTimeout(timer); resolve(r); });
    });
    await this.producer.send({
      topic: this.requestsTopic,
      messages: [{
        key: String(titleId),
        value: JSON.stringify({ title_id: titleId, force, priority, requested_by: 'node-backend', correlation_id: correlationId }),
        headers: { 'correlation-id': correlationId, producer: 'node-backend' },
      }],
    });
    return result;
  }

  async stop() {
    await this.consumer.disconnect();
    await this.producer.disconnect();
  }
}

module.exports = { SyncClient };

if (require.main === module) {
  const args = process.argv.slice(2);
  const arg = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const client = new SyncClient({
    brokers: arg('--brokers', '127.0.0.1:9092').split(','),
    requestsTopic: arg('--requests-topic', 'anilibria.sync_requests'),
    resultsTopic: arg('--results-topic', 'anilibria.sync_results'),
  });
  (async () => {
    await client.start();
    const options = { force: args.includes('--force'), timeoutMs: Number(arg('--timeout-ms', '15000')) };
    const timed = async (request, titleId) => {
      const started = Date.now();
      const result = await client.syncTitle(titleId, options);
      console.log(JSON.stringify({ request, elapsed_ms: Date.now() - started, result }));
    };
    try {
      const titleId = Number(arg('--title-id'));
      await timed('valid', titleId);
      if (args.includes('--malformed')) await timed('title id as a string', String(titleId));
      process.exitCode = 0;
    } catch (e) {
      console.error(e.message);
      process.exitCode = 1;
    } finally {
      await client.stop();
    }
  })().catch((e) => { console.error(e); process.exit(2); });
}
