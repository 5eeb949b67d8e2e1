package fcemu.agent;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.concurrent.CountDownLatch;

/**
 * FC's endpoint from inside the instance, as runtimes/python3/agent/fc_relay.py does it for the other runtimes: FC's
 * endpoint names resolve to 127.0.0.1 (the container's /etc/hosts), and 127.0.0.1:80 and :443 are relayed to the
 * emulator's listeners for instances, given as "80=<address>:<port>,443=<address>:<port>" (FCEMU_FC_RELAY, which
 * start.sh hands over as the fcemu.fcRelay property). Bytes only: TLS ends in the emulator.
 *
 * Java's TLS clients do not read the OS's trust bundle that the emulator mounts: the JVM's own roots and fcemu's
 * authority (/etc/fcemu/ca.crt) are made a trust store under /tmp, named by javax.net.ssl.trustStore, which the
 * JDK's default trust managers read (HttpsURLConnection, the JDK's HttpClient, OkHttp and Apache HttpClient, and so
 * FC's Java SDKs). Made on a thread at start; an invocation waits for it before the function's code runs.
 */
final class FcRelay {
    private static final String AUTHORITY = "/etc/fcemu/ca.crt";
    private static final String PASSWORD = "fcemu-trust";
    private static final CountDownLatch TRUST = new CountDownLatch(1);
    private static final int JKS_MAGIC = 0xFEEDFEED;

    private FcRelay() {
    }

    static void start(String routes) {
        boolean relayed = false;
        for (String entry : routes.split(",")) {
            String route = entry.trim();
            int equals = route.indexOf('=');
            int colon = route.lastIndexOf(':');
            if (equals <= 0 || colon <= equals) {
                continue;
            }
            int port = Integer.parseInt(route.substring(0, equals));
            InetSocketAddress target = new InetSocketAddress(route.substring(equals + 1, colon),
                    Integer.parseInt(route.substring(colon + 1)));
            try {
                ServerSocket listener = new ServerSocket();
                listener.setReuseAddress(true);
                listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
                daemon("fc-relay-" + port, () -> accept(listener, target));
                relayed = true;
            } catch (IOException error) {
                System.err.println("fcemu: FC's endpoint port " + port + " is not relayed: " + error.getMessage());
            }
        }
        if (relayed && Files.isReadable(Path.of(AUTHORITY))) {
            daemon("fc-trust", FcRelay::trust);
        } else {
            TRUST.countDown();
        }
    }

    /** Returns once the trust store is in place (at once when there is none to make). */
    static void awaitTrust() {
        if (TRUST.getCount() == 0) {
            return;
        }
        try {
            TRUST.await();
        } catch (InterruptedException error) {
            Thread.currentThread().interrupt();
        }
    }

    private static void trust() {
        try {
            Path file = trustStore(der(Files.readString(Path.of(AUTHORITY))));
            System.setProperty("javax.net.ssl.trustStore", file.toString());
            System.setProperty("javax.net.ssl.trustStoreType", "JKS");
            System.setProperty("javax.net.ssl.trustStorePassword", PASSWORD);
        } catch (Exception error) {
            System.err.println("fcemu: FC's endpoint certificate is not trusted by Java: " + error);
        } finally {
            TRUST.countDown();
        }
    }

    /**
     * The JVM's own roots (Debian's, from ca-certificates) plus the authority's certificate, as a JKS file under
     * /tmp. The JVM's store is a JKS file: the authority is appended to its bytes as one more trusted-certificate
     * entry, with the store's digest made again, which parses none of its 148 certificates (a KeyStore load and
     * store did, 120 ms of every instance's start on the client compiler).
     */
    static Path trustStore(byte[] authorityDer) throws Exception {
        byte[] roots = Files.readAllBytes(jvmRoots());
        ByteBuffer head = ByteBuffer.wrap(roots);
        if (roots.length < 32 || head.getInt(0) != JKS_MAGIC || head.getInt(4) != 2) {
            throw new IOException(jvmRoots() + " is not a JKS store");
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream(roots.length + authorityDer.length + 128);
        out.write(roots, 0, roots.length - 20); // without its SHA-1 digest
        DataOutputStream entry = new DataOutputStream(out);
        entry.writeInt(2); // a trusted certificate
        entry.writeUTF("fcemu-authority");
        entry.writeLong(System.currentTimeMillis());
        entry.writeUTF("X.509");
        entry.writeInt(authorityDer.length);
        entry.write(authorityDer);
        entry.flush();
        byte[] body = out.toByteArray();
        ByteBuffer.wrap(body).putInt(8, head.getInt(8) + 1);
        // JKS's digest: SHA-1 of the password (UTF-16BE), "Mighty Aphrodite", then the store's bytes.
        MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
        sha1.update(PASSWORD.getBytes(StandardCharsets.UTF_16BE));
        sha1.update("Mighty Aphrodite".getBytes(StandardCharsets.UTF_8));
        sha1.update(body);
        Path file = Files.createTempFile(Path.of("/tmp"), ".fcemu-trust", ".jks",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        try (OutputStream written = Files.newOutputStream(file)) {
            written.write(body);
            written.write(sha1.digest());
        }
        return file;
    }

    /** A PEM certificate's DER bytes. */
    static byte[] der(String pem) {
        StringBuilder base64 = new StringBuilder();
        boolean inside = false;
        for (String line : pem.split("\\r?\\n")) {
            if (line.startsWith("-----BEGIN CERTIFICATE")) {
                inside = true;
            } else if (line.startsWith("-----END CERTIFICATE")) {
                break;
            } else if (inside) {
                base64.append(line.trim());
            }
        }
        return Base64.getDecoder().decode(base64.toString());
    }

    /** The JVM's default trust store: Debian's, else the JDK's own. */
    private static Path jvmRoots() {
        Path debian = Path.of("/etc/ssl/certs/java/cacerts");
        return Files.isReadable(debian) ? debian : Path.of(System.getProperty("java.home"), "lib", "security", "cacerts");
    }

    private static void accept(ServerSocket listener, InetSocketAddress target) {
        while (true) {
            Socket client = null;
            try {
                client = listener.accept();
                Socket accepted = client;
                daemon("fc-relay-connection", () -> relay(accepted, target));
            } catch (Throwable error) {
                // Out of descriptors or threads: this connection is lost, not the next. A pause, not a spin: the
                // error lasts until some connection ends.
                try {
                    if (client != null) {
                        client.close();
                    }
                    Thread.sleep(50);
                } catch (Throwable ignored) {
                    // closed already, or interrupted: accept again
                }
            }
        }
    }

    private static void relay(Socket client, InetSocketAddress target) {
        try (client; Socket upstream = new Socket()) {
            upstream.connect(target, 10_000);
            client.setTcpNoDelay(true);
            upstream.setTcpNoDelay(true);
            Thread back = daemon("fc-relay-back", () -> pump(upstream, client));
            pump(client, upstream);
            back.join();
        } catch (IOException | InterruptedException error) {
            // either side went away
        }
    }

    /** Copies one direction to its end, then tells the other side (which may still answer). */
    private static void pump(Socket from, Socket to) {
        try {
            from.getInputStream().transferTo(to.getOutputStream());
        } catch (IOException error) {
            // closed
        } finally {
            try {
                to.shutdownOutput();
            } catch (IOException error) {
                // already closed
            }
        }
    }

    private static Thread daemon(String name, Runnable body) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }
}
