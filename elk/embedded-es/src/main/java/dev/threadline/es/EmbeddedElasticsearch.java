package dev.threadline.es;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.config.Configurator;
import org.elasticsearch.Build;
import org.elasticsearch.common.logging.LogConfigurator;
import org.elasticsearch.common.settings.Settings;
import org.elasticsearch.env.Environment;
import org.elasticsearch.http.HttpServerTransport;
import org.elasticsearch.node.InternalSettingsPreparer;
import org.elasticsearch.node.Node;
import org.elasticsearch.plugins.ClasspathPluginsLoader;
import org.elasticsearch.plugins.Plugin;
import org.elasticsearch.transport.TransportService;
import org.elasticsearch.transport.netty4.Netty4Plugin;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Starts one real Elasticsearch node (server jar + transport-netty4 from Maven Central) inside this JVM.
 *
 * <p>Arguments (all optional): {@code -basePath DIR} (default ./es-data), {@code -httpPort N} (default 9200; 0 = any free port),
 * {@code -clusterName NAME} (default embedded-es), {@code -nodeName NAME} (default node-1), {@code -logLevel LEVEL} (default info),
 * {@code -transportPort N} (default 0 = any free port).
 *
 * <p>Alone, the node is a single-node cluster. With {@code -seedHosts host:port,host:port} it is one node of a cluster of
 * several JVMs instead: it finds the others at those transport addresses, and {@code -initialMasterNodes name,name,name}
 * (the {@code -nodeName}s of the master-eligible nodes) lets a new cluster elect its first master. Each node then
 * needs a fixed {@code -transportPort}, the one the others list.
 *
 * <p>Prints {@code HTTP Port: <n>} and {@code Elasticsearch <version> ready on http://127.0.0.1:<n>} once started;
 * exits with status 1 (and a message on stderr) if the node cannot start, e.g. when the HTTP port is taken.
 * @see <a href="https://www.elastic.co/guide/en/elasticsearch/reference/8.19/modules-discovery-settings.html">discovery settings</a>
 */
public final class EmbeddedElasticsearch {

    private static final String LOG4J2_PROPERTIES = """
        status = error
        appender.console.type = Console
        appender.console.name = console
        appender.console.layout.type = PatternLayout
        appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
        rootLogger.level = info
        rootLogger.appenderRef.console.ref = console
        """;

    private static final List<String> OPTIONS = List.of(
        "basePath",
        "httpPort",
        "transportPort",
        "clusterName",
        "nodeName",
        "logLevel",
        "seedHosts",
        "initialMasterNodes"
    );

    private static final CountDownLatch STOPPED = new CountDownLatch(1);
    private static volatile Node node;
    // Captured before logging is configured (the node's log setup redirects System.out/err into log4j).
    private static final PrintStream OUT = System.out;
    private static final PrintStream ERR = System.err;

    public static void main(String[] args) throws Exception {
        final PrintStream out = OUT;
        // As in the distribution's jvm.options: our own shutdown hook closes the node, then log4j; log4j must not stop first.
        System.setProperty("log4j.shutdownHookEnabled", "false");
        System.setProperty("log4j2.disable.jmx", "true");
        final long t0 = System.nanoTime();
        Map<String, String> opts = parseArgs(args);
        Path basePath = Path.of(opts.getOrDefault("basePath", "es-data")).toAbsolutePath().normalize();
        int httpPort = Integer.parseInt(opts.getOrDefault("httpPort", "9200"));
        String clusterName = opts.getOrDefault("clusterName", "embedded-es");
        String nodeName = opts.getOrDefault("nodeName", "node-1");
        String logLevel = opts.getOrDefault("logLevel", "info");
        int transportPort = Integer.parseInt(opts.getOrDefault("transportPort", "0"));
        List<String> seedHosts = listOption(opts, "seedHosts");
        List<String> initialMasterNodes = listOption(opts, "initialMasterNodes");

        if (httpPort != 0 && portTaken(httpPort)) {
            System.err.println("ERROR: HTTP port " + httpPort + " on 127.0.0.1 is already in use; refusing to start");
            System.exit(1);
        }
        if (transportPort != 0 && portTaken(transportPort)) {
            System.err.println("ERROR: transport port " + transportPort + " on 127.0.0.1 is already in use; refusing to start");
            System.exit(1);
        }
        if (seedHosts.isEmpty() && initialMasterNodes.isEmpty() == false) {
            System.err.println("ERROR: -initialMasterNodes needs -seedHosts (the transport addresses of the other nodes)");
            System.exit(1);
        }

        Files.createDirectories(basePath.resolve("config"));
        Files.createDirectories(basePath.resolve("data"));
        Files.createDirectories(basePath.resolve("logs"));
        Files.createDirectories(basePath.resolve("plugins"));
        Files.createDirectories(basePath.resolve("modules"));

        Settings.Builder builder = Settings.builder()
            .put("cluster.name", clusterName)
            .put("node.name", nodeName)
            .put("path.home", basePath.toString())
            .put("path.data", basePath.resolve("data").toString())
            .put("path.logs", basePath.resolve("logs").toString())
            .putList("node.roles", "master", "data", "ingest")
            .put("network.host", "127.0.0.1")
            .put("http.port", Integer.toString(httpPort))
            .put("transport.port", Integer.toString(transportPort))
            .put("http.type", Netty4Plugin.NETTY_HTTP_TRANSPORT_NAME)
            .put("transport.type", Netty4Plugin.NETTY_TRANSPORT_NAME)
            .put("cluster.routing.allocation.disk.threshold_enabled", false)
            .put("action.auto_create_index", true)
            .put("logger.level", logLevel);
        if (seedHosts.isEmpty()) {
            builder.put("discovery.type", "single-node");
        } else {
            // One node of several JVMs: each finds the others over the transport ports they were given.
            builder.putList("discovery.seed_hosts", seedHosts);
            if (initialMasterNodes.isEmpty() == false) {
                builder.putList("cluster.initial_master_nodes", initialMasterNodes);
            }
        }
        Settings settings = builder.build();

        // Logging: the node's own log4j setup, console only, from a generated config/log4j2.properties.
        Files.writeString(basePath.resolve("config").resolve("log4j2.properties"), LOG4J2_PROPERTIES);
        LogConfigurator.registerErrorListener();
        Environment environment = InternalSettingsPreparer.prepareEnvironment(
            settings,
            Map.of(),
            basePath.resolve("config"),
            () -> nodeName
        );
        LogConfigurator.setClusterName(clusterName);
        LogConfigurator.setNodeName(nodeName);
        LogConfigurator.configure(environment, true);

        // Real HTTP/transport (netty4) plus GET / (the distribution's rest-root module is not on Maven Central).
        List<Class<? extends Plugin>> plugins = List.of(Netty4Plugin.class, RootEndpointPlugin.class);
        ClasspathPluginsLoader pluginsLoader = ClasspathPluginsLoader.create(
            basePath.resolve("classpath-modules"),
            List.of("transport-netty4", "rest-root"),
            plugins
        );

        Runtime.getRuntime().addShutdownHook(new Thread(EmbeddedElasticsearch::shutdown, "embedded-es-shutdown"));

        try {
            node = new Node(environment, pluginsLoader);
            node.start();
        } catch (Throwable t) {
            ERR.println("ERROR: Elasticsearch node failed to start: " + t);
            t.printStackTrace(ERR);
            ERR.flush();
            System.exit(1);
            return;
        }

        HttpServerTransport http = node.injector().getInstance(HttpServerTransport.class);
        TransportService transport = node.injector().getInstance(TransportService.class);
        int boundHttpPort = http.boundAddress().publishAddress().getPort();
        out.println("Transport Port: " + transport.boundAddress().publishAddress().getPort());
        out.println("HTTP Port: " + boundHttpPort);
        out.printf(
            "Elasticsearch %s ready on http://127.0.0.1:%d (cluster %s, started in %d ms)%n",
            Build.current().version(),
            boundHttpPort,
            clusterName,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)
        );
        out.flush();

        // Thread pools are daemon threads: keep the JVM alive until the shutdown hook has closed the node.
        STOPPED.await();
    }

    private static void shutdown() {
        Node n = node;
        try {
            if (n != null) {
                n.prepareForClose();
                n.close();
                if (n.awaitClose(10, TimeUnit.SECONDS) == false) {
                    ERR.println("WARN: node did not stop within 10 seconds");
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            ERR.println("WARN: failure while closing node: " + e);
        } finally {
            OUT.println("Elasticsearch stopped");
            OUT.flush();
            LoggerContext context = (LoggerContext) LogManager.getContext(false);
            Configurator.shutdown(context);
            STOPPED.countDown();
        }
    }

    private static boolean portTaken(int port) {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress("127.0.0.1", port));
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    /** A comma-separated option as a list; empty when the option is absent. */
    private static List<String> listOption(Map<String, String> opts, String key) {
        String value = opts.getOrDefault(key, "");
        return Arrays.stream(value.split(",")).map(String::trim).filter(v -> v.isEmpty() == false).toList();
    }

    private static Map<String, String> parseArgs(String[] args) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.startsWith("-") == false) {
                throw new IllegalArgumentException("unexpected argument: " + a);
            }
            String key = a.replaceFirst("^-+", "");
            String value;
            int eq = key.indexOf('=');
            if (eq >= 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException("missing value for " + a);
            }
            if (OPTIONS.contains(key) == false) {
                throw new IllegalArgumentException(
                    "unknown option " + a + " (known: -" + String.join(", -", OPTIONS) + ")"
                );
            }
            opts.put(key, value);
        }
        return opts;
    }
}
