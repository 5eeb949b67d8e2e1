package fcemu.agent;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.HttpRequestHandler;
import com.aliyun.fc.runtime.PojoRequestHandler;
import com.aliyun.fc.runtime.StreamRequestHandler;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Type;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.servlet.http.HttpServletRequest;

/**
 * fcemu's Java runtime agent: FC's custom-runtime HTTP contract on port 9000 (Server: plain sockets), calling a
 * function's handlers the way FC's Java runtime does: StreamRequestHandler and PojoRequestHandler (JSON through
 * Jackson) on /invoke, FunctionInitializer on /initialize, the preStop hook on GET /pre-stop, FC 2.0's
 * HttpRequestHandler on x-fc-control-path /http-invoke. Each call is framed by FC's `FC <Stage> Start/End
 * RequestId:` lines on stdout; with `x-fc-log-type: Tail` the last 4 KB of its output come back, base64, in
 * `x-fc-log-result`. Requests run concurrently, a thread per connection.
 *
 * Only the emulator drives it: every request must carry the instance's secret (`x-fcemu-agent-token`), or it is
 * refused with 403 and nothing runs. The JVM cannot drop a variable from its environment, so the start script
 * (start.sh) moves FCEMU_AGENT_TOKEN into a file only this user can read before java starts; the agent reads and
 * deletes it before any of the function's code loads.
 */
public final class Agent {
    private static final String HTTP_INVOKE = "/http-invoke";
    private static final String PRE_STOP_HANDLER = "x-fc-instance-lifecycle-pre-stop-handler";
    private static final String FAILED = ", Error: Unhandled function error";

    /** Jackson, made on first use: a stream handler's instance never pays for it at start. */
    static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper()
                .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

        private Json() {
        }
    }

    private static byte[] token = new byte[0];
    private static int port = 9000;
    private static Handlers handlers;
    private static final Object INIT_LOCK = new Object();
    private static volatile boolean initialized;

    private Agent() {
    }

    static int port() {
        return port;
    }

    /** A reply: status, headers (name, value), body. */
    record Reply(int status, List<String[]> headers, byte[] body) {
        static Reply of(byte[] body) {
            List<String[]> headers = new ArrayList<>();
            headers.add(new String[] {"Content-Type", "application/octet-stream"});
            return new Reply(200, headers, body);
        }
    }

    @FunctionalInterface
    interface Call {
        Reply apply(FcContext context) throws Throwable;
    }

    public static void main(String[] args) throws IOException {
        String tokenFile = System.getProperty("fcemu.tokenFile", "");
        boolean training = Training.wanted();
        if (training) {
            token = Training.TOKEN;
            tokenFile = "";
        }
        if (!tokenFile.isEmpty()) {
            Path path = Path.of(tokenFile);
            token = Files.readAllBytes(path);
            Files.deleteIfExists(path);
            System.clearProperty("fcemu.tokenFile");
        }
        Output.install();
        // FC's endpoint for the function (its routes are the relay's, not the function's).
        FcRelay.start(System.getProperty("fcemu.fcRelay", ""));
        System.clearProperty("fcemu.fcRelay");
        port = Integer.parseInt(System.getenv().getOrDefault("FC_SERVER_PORT", "9000"));
        handlers = new Handlers(System.getenv().getOrDefault("FC_FUNC_CODE_PATH", "/code"));
        Server server = new Server(port, Agent::handle);
        server.start();
        Output.line("FunctionCompute java runtime inited.\n");
        if (training) {
            Training.run(port, token);
        }
    }

    /** Whether a request's secret is this instance's; compared in constant time. */
    static boolean isOwnToken(String given) {
        return token.length > 0 && given != null
                && MessageDigest.isEqual(given.getBytes(StandardCharsets.ISO_8859_1), token);
    }

    // ---------------------------------------------------------------------------------------------------------
    // The contract.

    private static Reply handle(Server.Request request) {
        // Lower-case name -> the last value: the control plane's own x-fc-* headers come after a client's.
        Map<String, String> headers = new HashMap<>();
        for (String[] header : request.headers()) {
            headers.put(header[0].toLowerCase(Locale.ROOT), header[1]);
        }
        String method = request.method();
        String path = request.path();
        if (HTTP_INVOKE.equals(headers.get("x-fc-control-path"))) {
            return run("Invoke", headers, context -> httpInvoke(request, context));
        }
        if ("POST".equals(method) && path.startsWith("/invoke")) {
            return run("Invoke", headers, context -> invoke(request.body(), context));
        }
        if ("POST".equals(method) && path.startsWith("/initialize")) {
            if (headers.getOrDefault("x-fc-function-initializer", "").isEmpty()) {
                return new Reply(200, List.of(), new byte[0]); // no initializer: nothing ran, nothing framed
            }
            return run("Initialize", headers, Agent::initialize);
        }
        if ("GET".equals(method) && path.startsWith("/pre-stop") && headers.get(PRE_STOP_HANDLER) != null) {
            return run("PreStop", headers, context -> {
                hook(headers.get(PRE_STOP_HANDLER), context);
                return Reply.of(new byte[0]);
            });
        }
        // /pre-freeze, a /pre-stop without a hook, liveness probes.
        return new Reply(200, List.of(), new byte[0]);
    }

    /**
     * Runs one call of the function's code framed by FC's Start/End lines, its output captured for the log tail
     * when asked, and turns its outcome into the reply: a throwable is FC's error (x-fc-status 404).
     */
    private static Reply run(String stage, Map<String, String> headers, Call call) {
        FcContext context = new FcContext(headers);
        boolean tail = "tail".equalsIgnoreCase(headers.getOrDefault("x-fc-log-type", ""));
        Output.Capture capture = tail ? new Output.Capture() : null;
        Thread thread = Thread.currentThread();
        ClassLoader own = thread.getContextClassLoader();
        FcRelay.awaitTrust();
        Output.begin(capture);
        thread.setContextClassLoader(handlers.loader());
        Output.line("FC " + stage + " Start RequestId: " + context.getRequestId() + "\n");
        Reply reply;
        String suffix = "";
        try {
            reply = call.apply(context);
        } catch (Throwable thrown) {
            Throwable error = unwrap(thrown);
            Errors.print(error, context.getRequestId());
            reply = Errors.reply(error);
            suffix = FAILED;
        } finally {
            thread.setContextClassLoader(own);
        }
        Output.line("FC " + stage + " End RequestId: " + context.getRequestId() + suffix + "\n");
        Output.end();
        if (capture != null) {
            List<String[]> headersOut = new ArrayList<>(reply.headers());
            headersOut.add(new String[] {"x-fc-log-result", Base64.getEncoder().encodeToString(capture.close())});
            reply = new Reply(reply.status(), headersOut, reply.body());
        }
        return reply;
    }

    private static Throwable unwrap(Throwable thrown) {
        Throwable error = thrown;
        while (error instanceof InvocationTargetException && error.getCause() != null) {
            error = error.getCause();
        }
        return error;
    }

    private static Object call(Handlers.Target target, Object... args) throws Throwable {
        try {
            return target.method.invoke(target.instance, args);
        } catch (InvocationTargetException error) {
            throw error.getCause();
        }
    }

    // ---------------------------------------------------------------------------------------------------------
    // Handlers.

    /** An event: a StreamRequestHandler's bytes, else a POJO handler's JSON in and out. */
    private static Reply invoke(byte[] body, FcContext context) throws Throwable {
        String name = context.getFunctionHandler();
        Handlers.Target target;
        try {
            target = handlers.resolve(name, 3, InputStream.class);
        } catch (Handlers.LoadError notStream) {
            if (notStream.getCause() != null && !(notStream.getCause() instanceof NoSuchMethodException)) {
                throw notStream; // the class itself did not load
            }
            try {
                target = handlers.resolve(name, 2, null);
            } catch (Handlers.LoadError notPojo) {
                throw notPojo.getCause() instanceof NoSuchMethodException
                        ? new Handlers.LoadError(notPojo.getMessage().replace("with 2 parameters (the last a "
                                + "com.aliyun.fc.runtime.Context)", "(InputStream, OutputStream, Context) or (input, "
                                + "Context)"), notPojo.getCause())
                        : notPojo;
            }
        }
        if (target.parameters.length == 3) {
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            InputStream input = new ByteArrayInputStream(body);
            if (target.instance instanceof StreamRequestHandler stream && isInterfaceMethod(target)) {
                stream.handleRequest(input, output, context);
            } else {
                call(target, input, output, context);
            }
            return Reply.of(output.toByteArray());
        }
        Object input = pojoInput(body, Handlers.inputType(target));
        Object result;
        if (target.instance instanceof PojoRequestHandler<?, ?> && isInterfaceMethod(target)) {
            @SuppressWarnings("unchecked")
            PojoRequestHandler<Object, Object> pojo = (PojoRequestHandler<Object, Object>) target.instance;
            result = pojo.handleRequest(input, context);
        } else {
            result = call(target, input, context);
        }
        List<String[]> headers = new ArrayList<>();
        headers.add(new String[] {"Content-Type", "application/json"});
        return new Reply(200, headers, Json.MAPPER.writeValueAsBytes(result));
    }

    private static boolean isInterfaceMethod(Handlers.Target target) {
        return "handleRequest".equals(target.method.getName());
    }

    /**
     * The event as the handler's input type: JSON mapped by Jackson (unknown properties ignored); an empty event is
     * null; a String input takes a JSON string's value, or any other event's text as it is.
     */
    private static Object pojoInput(byte[] body, Type type) throws IOException {
        if (body.length == 0) {
            return null;
        }
        if (type == String.class) {
            String text = new String(body, StandardCharsets.UTF_8);
            return text.startsWith("\"") ? Json.MAPPER.readValue(body, String.class) : text;
        }
        return Json.MAPPER.readValue(body, Json.MAPPER.getTypeFactory().constructType(type));
    }

    private static Reply initialize(FcContext context) throws Throwable {
        String name = context.getFunctionInitializer();
        if (!initialized) {
            synchronized (INIT_LOCK) {
                if (!initialized) {
                    hook(name, context);
                    initialized = true;
                }
            }
        }
        return Reply.of(new byte[0]);
    }

    /** An initializer or preStop hook: `method(Context)`. */
    private static void hook(String name, Context context) throws Throwable {
        call(handlers.resolve(name, 1, null), context);
    }

    /** FC 2.0's HttpRequestHandler: the client's request as a servlet request, the servlet response as the reply. */
    private static Reply httpInvoke(Server.Request exchange, FcContext context) throws Throwable {
        Map<String, List<String>> visible = new LinkedHashMap<>();
        for (String[] header : exchange.headers()) {
            String lower = header[0].toLowerCase(Locale.ROOT);
            if (HttpServlets.visibleRequestHeader(lower)) {
                visible.computeIfAbsent(lower, name -> new ArrayList<>()).add(header[1]);
            }
        }
        String forwarded = context.get("x-forwarded-for");
        String clientIp = forwarded.isEmpty() ? exchange.remote().getHostAddress() : forwarded.split(",")[0].trim();
        HttpServletRequest request = ServletRequests.request(exchange.method(), exchange.target(), visible,
                exchange.body(), clientIp);
        ServletResponses.Answer answer = new ServletResponses.Answer();
        javax.servlet.http.HttpServletResponse response = ServletResponses.response(answer);
        Handlers.Target target = handlers.resolve(context.getFunctionHandler(), 3, HttpServletRequest.class);
        if (target.instance instanceof HttpRequestHandler http && isInterfaceMethod(target)) {
            http.handleRequest(request, response, context);
        } else {
            call(target, request, response, context);
        }
        return new Reply(answer.status, answer.headerLines(), answer.bodyBytes());
    }
}
