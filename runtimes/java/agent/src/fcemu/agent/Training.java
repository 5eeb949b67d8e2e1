package fcemu.agent;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * The image build's run of the agent (start.sh with FCEMU_JAVA_CDS_DUMP=1): it serves a few requests of each kind
 * to itself (a refused one, an invocation whose handler is missing, which takes the error's JSON path, and a
 * POJO-style JSON mapping) and makes a trust store as FcRelay does, then exits, so that the JVM archives every class they loaded (-XX:ArchiveClassesAtExit):
 * an instance then maps them from the archive instead of loading them at its start.
 */
final class Training {
    static final byte[] TOKEN = "fcemu-cds-training".getBytes(StandardCharsets.ISO_8859_1);

    private Training() {
    }

    /**
     * Whether this run is the image build's: asked for (the fcemu.training property, which start.sh sets only then)
     * and run as root, as the Dockerfile's RUN step is. An instance runs as 65534 and a function can set the property
     * itself (JAVA_TOOL_OPTIONS): the training's public token must never open an instance.
     */
    static boolean wanted() {
        return Boolean.getBoolean("fcemu.training") && new com.sun.security.auth.module.UnixSystem().getUid() == 0;
    }

    static void run(int port, byte[] token) throws IOException {
        request(port, "POST", "/invoke", Map.of("x-fcemu-agent-token", "wrong"));
        Map<String, String> headers = Map.of("x-fcemu-agent-token", new String(token, StandardCharsets.ISO_8859_1),
                "x-fc-request-id", "cds-training", "x-fc-function-handler", "fcemu.training.Missing::handleRequest",
                "x-fc-log-type", "Tail");
        for (int round = 0; round < 3; round++) {
            request(port, "POST", "/invoke", headers);
            request(port, "POST", "/initialize", headers);
            request(port, "GET", "/", headers);
        }
        Agent.Json.MAPPER.readValue("{\"a\":[1,{\"b\":\"c\"}]}", Object.class);
        try {
            java.nio.file.Files.delete(FcRelay.trustStore(FcRelay.der("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----")));
        } catch (Exception error) {
            throw new IOException(error);
        }
        System.out.flush();
        System.exit(0);
    }

    private static void request(int port, String method, String path, Map<String, String> headers)
            throws IOException {
        HttpURLConnection connection = (HttpURLConnection) new URL("http://127.0.0.1:" + port + path).openConnection();
        connection.setRequestMethod(method);
        headers.forEach(connection::setRequestProperty);
        if ("POST".equals(method)) {
            connection.setDoOutput(true);
            try (OutputStream out = connection.getOutputStream()) {
                out.write("{}".getBytes(StandardCharsets.UTF_8));
            }
        }
        connection.getResponseCode();
        InputStream in = connection.getErrorStream() != null ? connection.getErrorStream() : connection.getInputStream();
        if (in != null) {
            in.readAllBytes();
            in.close();
        }
    }
}
