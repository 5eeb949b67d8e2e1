package fcemu.agent;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * HTTP/1.1 on plain blocking sockets, a thread per connection. The control plane's requests are simple (a head, a
 * Content-Length body, keep-alive, one request at a time per connection; concurrent requests come on connections
 * of their own), and this answers each in ONE write with TCP_NODELAY. The JDK's com.sun.net.httpserver wrote the
 * head and the body apart and handed every request between its selector thread and a worker: its warm invoke
 * through the emulator took 1.9x python's.
 *
 * Nothing a peer without the secret does can stop it: a connection must send a whole head within HEAD_TIMEOUT_MS
 * (the secret is checked at its end), connections hold at most MAX_CONNECTIONS threads (one more is closed at once,
 * not queued), and the accept loop outlives any error, out-of-threads included (an instance's pids limit, 256 by
 * default, is reached long before its memory): it backs off briefly and accepts again.
 */
final class Server {
    private static final int MAX_HEAD_BYTES = 256 * 1024;
    private static final int MAX_HEADERS = 500;
    /** FC's largest instanceConcurrency: every request of a full instance has a thread. */
    static final int MAX_CONNECTIONS = 200;
    /** A request's head, up to its secret, from a peer not yet known. */
    static final int HEAD_TIMEOUT_MS = 10_000;
    /**
     * How long a known peer's keep-alive connection may idle (and its body take). Longer than an idle instance lives
     * by default (idle_timeout_s, 300 s), so the emulator normally drops the instance first: a close racing a request
     * fails that request.
     */
    static final int IDLE_TIMEOUT_MS = 600_000;
    private static final long BACK_OFF_MS = 50;

    /** One request as read: the secret is kept apart from the headers a function may see. */
    record Request(String method, String target, List<String[]> headers, String token, byte[] body,
                   InetAddress remote) {
        String path() {
            int mark = target.indexOf('?');
            return mark < 0 ? target : target.substring(0, mark);
        }

        String query() {
            int mark = target.indexOf('?');
            return mark < 0 ? null : target.substring(mark + 1);
        }
    }

    interface Handler {
        Agent.Reply handle(Request request) throws IOException;
    }

    private final ServerSocket socket;
    private final Handler handler;
    private final ThreadPoolExecutor threads;

    Server(int port, Handler handler) throws IOException {
        this.socket = new ServerSocket();
        this.socket.setReuseAddress(true);
        this.socket.bind(new InetSocketAddress("0.0.0.0", port), 1024);
        this.handler = handler;
        AtomicInteger count = new AtomicInteger();
        // Idle threads are kept a minute for the next connections; past MAX_CONNECTIONS busy ones, execute refuses.
        this.threads = new ThreadPoolExecutor(0, MAX_CONNECTIONS, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
                runnable -> {
                    Thread thread = new Thread(runnable, "fc-connection-" + count.incrementAndGet());
                    thread.setDaemon(true);
                    return thread;
                });
    }

    int port() {
        return socket.getLocalPort();
    }

    /** Accepts connections on a thread of its own (not a daemon: it keeps the JVM up). */
    void start() {
        Thread acceptor = new Thread(() -> {
            while (!socket.isClosed()) {
                Socket connection = null;
                try {
                    connection = socket.accept();
                    Socket accepted = connection;
                    threads.execute(() -> serve(accepted));
                } catch (RejectedExecutionException full) {
                    close(connection); // MAX_CONNECTIONS are open: this one is refused, not queued
                } catch (Throwable error) {
                    // Out of threads (OutOfMemoryError) or descriptors: this connection is lost, not the next.
                    close(connection);
                    backOff();
                }
            }
        }, "fc-accept");
        acceptor.start();
    }

    private static void close(Socket connection) {
        if (connection != null) {
            try {
                connection.close();
            } catch (Throwable error) {
                // nothing more to free
            }
        }
    }

    private static void backOff() {
        try {
            Thread.sleep(BACK_OFF_MS);
        } catch (InterruptedException error) {
            Thread.currentThread().interrupt();
        }
    }

    private void serve(Socket connection) {
        try (connection) {
            connection.setTcpNoDelay(true);
            Timed timed = new Timed(connection);
            InputStream in = new BufferedInputStream(timed, 16 * 1024);
            OutputStream out = connection.getOutputStream();
            boolean open = true;
            while (open) {
                // each request on this keep-alive connection
                timed.expireIn(timed.known ? IDLE_TIMEOUT_MS : HEAD_TIMEOUT_MS);
                open = serveOne(connection, timed, in, out);
            }
        } catch (IOException error) {
            // the peer went away, or was too slow: nothing to answer
        }
    }

    /**
     * The socket's input, each read bounded by a deadline for the whole of what is being read (a head): a peer
     * sending a byte now and then does not hold its thread, as a timeout per read would let it.
     */
    private static final class Timed extends InputStream {
        private final Socket socket;
        private final InputStream in;
        private long deadline;
        /** Whether a request on this connection carried the secret. */
        boolean known;

        Timed(Socket socket) throws IOException {
            this.socket = socket;
            this.in = socket.getInputStream();
        }

        void expireIn(int millis) {
            deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                throw new SocketTimeoutException("the peer was too slow");
            }
            socket.setSoTimeout((int) Math.min(left, Integer.MAX_VALUE));
            return in.read(buffer, offset, length);
        }

        @Override
        public int available() throws IOException {
            return in.available();
        }
    }

    /** Reads and answers one request; false when the connection is to be closed. */
    private boolean serveOne(Socket connection, Timed timed, InputStream in, OutputStream out) throws IOException {
        List<String> lines = readHead(in);
        if (lines == null) {
            return false;
        }
        String[] start = lines.isEmpty() ? new String[0] : lines.get(0).split(" ");
        if (start.length != 3 || !start[2].startsWith("HTTP/") || lines.size() > MAX_HEADERS) {
            return refuse(out, 400, "Bad Request", "");
        }
        List<String[]> headers = new ArrayList<>();
        String token = null;
        long length = 0;
        String connectionHeader = "";
        boolean expectContinue = false;
        for (int i = 1; i < lines.size(); i++) {
            String line = lines.get(i);
            int colon = line.indexOf(':');
            if (colon <= 0) {
                return refuse(out, 400, "Bad Request", "");
            }
            String name = line.substring(0, colon).trim();
            String value = line.substring(colon + 1).trim();
            String lower = name.toLowerCase(Locale.ROOT);
            switch (lower) {
                case "x-fcemu-agent-token":
                    token = value; // kept apart: no handler sees it
                    continue;
                case "content-length":
                    try {
                        length = Long.parseLong(value);
                    } catch (NumberFormatException error) {
                        return refuse(out, 400, "Bad Request", "");
                    }
                    break;
                case "connection":
                    connectionHeader = value.toLowerCase(Locale.ROOT);
                    break;
                case "expect":
                    expectContinue = "100-continue".equalsIgnoreCase(value);
                    break;
                case "transfer-encoding":
                    return refuse(out, 400, "Bad Request", ""); // the control plane always sends a length
                default:
                    break;
            }
            headers.add(new String[] {name, value});
        }
        // Before the body is read and anything runs.
        if (!Agent.isOwnToken(token)) {
            return refuse(out, 403, "Forbidden", "this instance answers only the emulator that started it\n");
        }
        timed.known = true;
        timed.expireIn(IDLE_TIMEOUT_MS);
        if (length < 0 || length > Integer.MAX_VALUE - 8) {
            return refuse(out, 400, "Bad Request", "");
        }
        boolean http10 = start[2].equals("HTTP/1.0");
        if (expectContinue && !http10) {
            out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }
        byte[] body = in.readNBytes((int) length);
        if (body.length < length) {
            return false;
        }
        boolean keepAlive = http10 ? connectionHeader.equals("keep-alive") : !connectionHeader.equals("close");
        Request request = new Request(start[0], start[1], headers, token, body, connection.getInetAddress());
        Agent.Reply reply;
        try {
            reply = handler.handle(request);
        } catch (RuntimeException | Error error) {
            error.printStackTrace();
            reply = new Agent.Reply(500, List.of(), new byte[0]);
        }
        out.write(encode(reply, "HEAD".equals(start[0]), keepAlive));
        out.flush();
        return keepAlive;
    }

    /** The head's lines, without the empty line ending it; null at the end of the stream or past the limit. */
    private static List<String> readHead(InputStream in) throws IOException {
        List<String> lines = new ArrayList<>();
        ByteArrayOutputStream line = new ByteArrayOutputStream(256);
        int total = 0;
        int previous = -1;
        while (true) {
            int b = in.read();
            if (b < 0 || ++total > MAX_HEAD_BYTES) {
                return null;
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int size = previous == '\r' ? bytes.length - 1 : bytes.length;
                if (size == 0) {
                    if (lines.isEmpty()) {
                        continue; // a stray empty line between requests
                    }
                    return lines;
                }
                lines.add(new String(bytes, 0, size, StandardCharsets.ISO_8859_1));
                line.reset();
            } else {
                line.write(b);
            }
            previous = b;
        }
    }

    private static byte[] encode(Agent.Reply reply, boolean head, boolean keepAlive) {
        StringBuilder text = new StringBuilder(256).append("HTTP/1.1 ").append(reply.status()).append(' ')
                .append(reason(reply.status())).append("\r\n");
        for (String[] header : reply.headers()) {
            text.append(header[0]).append(": ").append(header[1]).append("\r\n");
        }
        boolean noBody = reply.status() == 204 || reply.status() == 304 || reply.status() < 200;
        if (!noBody) {
            text.append("Content-Length: ").append(reply.body().length).append("\r\n");
        }
        if (!keepAlive) {
            text.append("Connection: close\r\n");
        }
        byte[] headBytes = text.append("\r\n").toString().getBytes(StandardCharsets.UTF_8);
        if (head || noBody || reply.body().length == 0) {
            return headBytes;
        }
        byte[] all = new byte[headBytes.length + reply.body().length];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(reply.body(), 0, all, headBytes.length, reply.body().length);
        return all;
    }

    private static boolean refuse(OutputStream out, int status, String reason, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reason + "\r\n" + (bytes.length > 0 ? "Content-Type: text/plain\r\n" : "")
                + "Content-Length: " + bytes.length + "\r\nConnection: close\r\n\r\n";
        byte[] headBytes = head.getBytes(StandardCharsets.ISO_8859_1);
        byte[] all = new byte[headBytes.length + bytes.length];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        System.arraycopy(bytes, 0, all, headBytes.length, bytes.length);
        out.write(all);
        out.flush();
        return false;
    }

    private static String reason(int status) {
        switch (status) {
            case 200: return "OK";
            case 201: return "Created";
            case 204: return "No Content";
            case 301: return "Moved Permanently";
            case 302: return "Found";
            case 304: return "Not Modified";
            case 400: return "Bad Request";
            case 401: return "Unauthorized";
            case 403: return "Forbidden";
            case 404: return "Not Found";
            case 500: return "Internal Server Error";
            case 502: return "Bad Gateway";
            case 503: return "Service Unavailable";
            default: return "Status";
        }
    }
}
