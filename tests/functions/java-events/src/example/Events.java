package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.Credentials;
import com.aliyun.fc.runtime.FunctionInitializer;
import com.aliyun.fc.runtime.PreStopHandler;
import com.aliyun.fc.runtime.StreamRequestHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A StreamRequestHandler with FC's hooks. The event "fail:<message>" throws an IOException with that message;
 * "retry" fails on its first attempt; "exit" ends the JVM; "flood:<n>" prints n MB; anything else is answered with what the function saw,
 * as JSON.
 */
public class Events implements StreamRequestHandler, FunctionInitializer, PreStopHandler {
    private static final AtomicInteger INITIALIZED = new AtomicInteger();

    @Override
    public void initialize(Context context) throws IOException {
        INITIALIZED.incrementAndGet();
        context.getLogger().info("initializer ran");
    }

    /** An initializer that fails: its function's invocations fail with its error. */
    public void failingInitialize(Context context) throws IOException {
        throw new IOException("cannot connect to the database");
    }

    @Override
    public void preStop(Context context) throws IOException {
        System.out.println("preStop ran for " + context.getFunctionParam().getFunctionName());
    }

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        String event = read(input);
        if (event.startsWith("fail:")) {
            throw new IOException(event.substring(5));
        }
        if (event.startsWith("flood:")) {
            flood(Integer.parseInt(event.substring(6)));
            output.write("flooded".getBytes(StandardCharsets.UTF_8));
            return;
        }
        if (event.equals("exit")) {
            System.exit(3);
        }
        if (event.equals("retry") && context.getRetryCount() == 0) {
            throw new IllegalStateException("the first attempt fails");
        }
        context.getLogger().info("event " + event);
        System.out.println("to stdout");
        System.err.println("to stderr");
        Thread thread = new Thread(() -> System.out.println("from a thread the handler started"));
        thread.start();
        try {
            thread.join();
        } catch (InterruptedException error) {
            throw new IOException(error);
        }
        Map<String, Object> seen = new LinkedHashMap<>();
        seen.put("event", event);
        seen.put("requestId", context.getRequestId());
        seen.put("functionName", context.getFunctionParam().getFunctionName());
        seen.put("handler", context.getFunctionParam().getFunctionHandler());
        seen.put("initializer", context.getFunctionParam().getFunctionInitializer());
        seen.put("memoryMB", context.getFunctionParam().getMemoryLimitInMB());
        seen.put("timeoutMillis", context.getFunctionParam().getExecTimeLimitInMillis());
        seen.put("service", context.getService().getName());
        seen.put("qualifier", context.getService().getQualifier());
        seen.put("retryCount", context.getRetryCount());
        Credentials credentials = context.getExecutionCredentials();
        seen.put("accessKeyId", credentials == null ? null : credentials.getAccessKeyId());
        seen.put("securityToken", credentials == null ? null : credentials.getSecurityToken());
        seen.put("environmentKeyId", System.getenv("ALIBABA_CLOUD_ACCESS_KEY_ID"));
        seen.put("initialized", INITIALIZED.get());
        // Where FC's interfaces came from: the runtime's copy, not the one in this jar.
        seen.put("contextFrom", Context.class.getProtectionDomain().getCodeSource().getLocation().toString());
        seen.put("javaSpecification", System.getProperty("java.specification.version"));
        seen.put("defaultCharset", java.nio.charset.Charset.defaultCharset().name());
        seen.put("tokenInEnvironment", System.getenv("FCEMU_AGENT_TOKEN") != null);
        seen.put("runtime", System.getenv("FC_RUNTIME"));
        output.write(Json.of(seen).getBytes(StandardCharsets.UTF_8));
    }

    /** Megabytes of output (lines of 1 MB of "x"), then a last line saying how much. */
    private static void flood(int megabytes) {
        char[] line = new char[1024 * 1024 - 1];
        java.util.Arrays.fill(line, 'x');
        String text = new String(line);
        for (int i = 0; i < megabytes; i++) {
            System.out.println(text);
        }
        System.out.println("flood of " + megabytes + " MB done");
    }

    static String read(InputStream input) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        for (int read; (read = input.read(chunk)) != -1; ) {
            bytes.write(chunk, 0, read);
        }
        return new String(bytes.toByteArray(), StandardCharsets.UTF_8);
    }
}
