package anipipe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Files;
import java.time.Instant;
import java.util.HashSet;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * Sync's job as a JVM shop would write it: snapshot events in; a persistent store of titles; a
 * title document out when it changed and a new_episode event per ordinal the store did not have;
 * Kafka Streams with exactly-once v2, lz4, and the producer tuned (batch.size 256 KB).
 *
 * <p>java -cp 'target/classes:lib/*' anipipe.SyncPeer BROKERS APP_ID EVENTS TITLES NEW_EPISODE
 * [WARM_EVENTS WARM_TITLES WARM_NEW_EPISODE WARM_COUNT]
 *
 * <p>With the warm-up topics, it first processes WARM_COUNT events there (the JIT compiles the
 * hot paths: a cold JVM spends most of a short run compiling), closes that instance, then runs on
 * the measured topics until SIGTERM. It prints "warm" when the warm-up ended and "running" when
 * the measured instance runs.
 */
public final class SyncPeer {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final String STORE = "titles";

  private SyncPeer() {}

  static final class SyncProcessor implements Processor<String, String, String, String> {
    private final AtomicLong processed;
    private ProcessorContext<String, String> context;
    private KeyValueStore<String, String> titles;

    SyncProcessor(AtomicLong processed) {
      this.processed = processed;
    }

    @Override
    public void init(ProcessorContext<String, String> context) {
      this.context = context;
      this.titles = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<String, String> record) {
      try {
        JsonNode event = MAPPER.readTree(record.value());
        JsonNode title = event.get("title");
        if (title == null || !title.isObject()) {
          return;
        }
        String stored = titles.get(record.key());
        Set<Double> known = new HashSet<>();
        if (stored != null) {
          for (JsonNode e : MAPPER.readTree(stored).path("episodes")) {
            known.add(e.path("ordinal").asDouble());
          }
        }
        ObjectNode doc = (ObjectNode) title.deepCopy();
        doc.put("synced_from", event.path("event_id").asText());
        String json = MAPPER.writeValueAsString(doc);
        if (!json.equals(stored)) {
          titles.put(record.key(), json);
          context.forward(record.withValue(json), "titles");
        }
        String detected = Instant.now().toString();
        for (JsonNode episode : title.path("episodes")) {
          double ordinal = episode.path("ordinal").asDouble();
          if (known.contains(ordinal)) {
            continue;
          }
          ObjectNode out = MAPPER.createObjectNode();
          out.put("event_id", title.path("id").asText() + ":" + episode.path("id").asText());
          out.put("title_id", title.path("id").asLong());
          out.set("episode", episode);
          ObjectNode brief = out.putObject("title");
          brief.set("alias", title.path("alias"));
          brief.set("names", title.path("names"));
          out.put("detected_at", detected);
          context.forward(record.withValue(MAPPER.writeValueAsString(out)), "new_episode");
        }
        processed.incrementAndGet();
      } catch (java.io.IOException e) {
        // Not JSON: sync dead-letters it; the peer's comparison inputs are all well-formed.
      }
    }
  }

  static Topology topology(String events, String titles, String newEpisode, AtomicLong processed) {
    Topology t = new Topology();
    t.addSource("events", Serdes.String().deserializer(), Serdes.String().deserializer(), events);
    t.addProcessor("sync", () -> new SyncProcessor(processed), "events");
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(), Serdes.String()), "sync");
    t.addSink("titles", titles, Serdes.String().serializer(), Serdes.String().serializer(), "sync");
    t.addSink("new_episode", newEpisode, Serdes.String().serializer(), Serdes.String().serializer(), "sync");
    return t;
  }

  static Properties config(String brokers, String appId) throws java.io.IOException {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, brokers);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    // One stream thread per core, as a JVM shop sizes it; sync is one process too.
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, Runtime.getRuntime().availableProcessors());
    p.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("sync-peer-").toString());
    p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");
    p.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), 256 * 1024);
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    return p;
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 5 && args.length != 9) {
      System.err.println("usage: SyncPeer BROKERS APP_ID EVENTS TITLES NEW_EPISODE [WARM_EVENTS WARM_TITLES WARM_NEW_EPISODE WARM_COUNT]");
      System.exit(2);
    }
    String brokers = args[0];
    String appId = args[1];
    if (args.length == 9) {
      AtomicLong warmed = new AtomicLong();
      long count = Long.parseLong(args[8]);
      KafkaStreams warm = new KafkaStreams(topology(args[5], args[6], args[7], warmed), config(brokers, appId + ".warm"));
      warm.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
      while (warmed.get() < count && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      warm.close();
      System.out.println("warm " + warmed.get());
    }
    AtomicLong processed = new AtomicLong();
    KafkaStreams streams = new KafkaStreams(topology(args[2], args[3], args[4], processed), config(brokers, appId));
    CountDownLatch done = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close();
      done.countDown();
    }));
    streams.start();
    System.out.println("running");
    System.out.flush();
    done.await();
  }
}
