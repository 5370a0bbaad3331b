// How any service of the site tells a user something (seed 004): one record on notification_events,
// key = user_id, published with kafkajs as docs/notifications.md shows. The integration test runs
//
//   node notification_publisher.js --brokers 127.0.0.1:9092 --topic notification_events --user user-42
//        --key scenarios:share:17:user-42 [--times 2]
//
// and checks that the user's WebSocket and history get it once, however many times it is sent.
// Prints {"sent":N,"partition":P} and exits 0; exits 1 on an error.
'use strict';
const { Kafka, Partitioners, logLevel } = require('kafkajs');

function args() {
  const out = { times: 1 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) out[argv[i].replace(/^--/, '')] = argv[i + 1];
  for (const required of ['brokers', 'topic', 'user', 'key'])
    if (!out[required]) throw new Error(`--${required} is required`);
  return out;
}

async function main() {
  const a = args();
  const kafka = new Kafka({ clientId: 'scenarios', brokers: a.brokers.split(','), logLevel: logLevel.WARN });
  // murmur2, like anipipe's producers: a user's notifications stay in order on one partition.
  const producer = kafka.producer({ idempotent: true, createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const value = JSON.stringify({
    user_id: a.user, type: 'scenario_shared', title: 'A scenario was shared with you',
    body: 'Mika shared «Butterflies, ep. 1-3»', data: { scenario_id: 17 },
    channels: ['websocket', 'redis'],
    idempotency_key: a.key,  // the same on every retry of this notification
    created_at: new Date().toISOString(),
  });
  let partition = -1;
  // A service retrying (a timeout it could not tell from a failure) sends the same record again.
  for (let i = 0; i < Number(a.times); ++i) {
    const [meta] = await producer.send({ topic: a.topic, messages: [{ key: a.user, value }] });
    partition = meta.partition;
  }
  await producer.disconnect();
  console.log(JSON.stringify({ sent: Number(a.times), partition }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
