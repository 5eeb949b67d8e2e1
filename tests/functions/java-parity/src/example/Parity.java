// The event says what to do ({"do": ...}); anything else (a timer's event, FC 3.0's HTTP event) is echoed back.
package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.Credentials;
import com.aliyun.fc.runtime.PreStopHandler;
import com.aliyun.fc.runtime.StreamRequestHandler;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class Parity implements StreamRequestHandler, PreStopHandler {
    // Where preStop reports (a test's sink); set by {"do": "remember-sink"}, so only that instance reports.
    private static volatile String sink = "";

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        byte[] event = readAll(input);
        String text = new String(event, StandardCharsets.UTF_8);
        String answer;
        switch (field(text, "do")) {
            case "throw":
                throw new IllegalStateException("java refuses: " + field(text, "input"));
            case "log":
                System.out.println("java says " + field(text, "input"));
                context.getLogger().info("java logged " + field(text, "input"));
                answer = "{\"logged\": " + quoted(field(text, "input")) + "}";
                break;
            case "fail-first":
                // Fails its first attempt: an async retry succeeds and says which attempt it was.
                if (context.getRetryCount() == 0) throw new IllegalStateException("first attempt fails");
                answer = "{\"retryCount\": " + context.getRetryCount() + "}";
                break;
            case "credentials":
                Credentials credentials = context.getExecutionCredentials();
                answer = "{\"context\": [" + quoted(credentials.getAccessKeyId()) + ", "
                        + quoted(credentials.getAccessKeySecret()) + ", " + quoted(credentials.getSecurityToken())
                        + "], \"env\": [" + quoted(System.getenv("ALIBABA_CLOUD_ACCESS_KEY_ID")) + ", "
                        + quoted(System.getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET")) + ", "
                        + quoted(System.getenv("ALIBABA_CLOUD_SECURITY_TOKEN")) + "]}";
                break;
            case "remember-sink":
                sink = field(text, "sink");
                answer = "{\"instance\": " + quoted(System.getenv("HOSTNAME")) + "}";
                break;
            default:
                output.write(event);
                return;
        }
        output.write(answer.getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public void preStop(Context context) throws IOException {
        if (sink.isEmpty()) return;
        String body = "{\"what\": \"preStop\", \"instance\": " + quoted(System.getenv("HOSTNAME"))
                + ", \"requestId\": " + quoted(context.getRequestId()) + ", \"function\": "
                + quoted(context.getFunctionParam().getFunctionName()) + "}";
        HttpURLConnection connection = (HttpURLConnection) new URL(sink).openConnection();
        connection.setRequestMethod("POST");
        connection.setDoOutput(true);
        connection.setRequestProperty("Content-Type", "application/json");
        try (OutputStream out = connection.getOutputStream()) {
            out.write(body.getBytes(StandardCharsets.UTF_8));
        }
        connection.getResponseCode();
        connection.disconnect();
    }

    /** A string field of a flat JSON object, "" when absent: the tests' events need no JSON library. */
    private static String field(String json, String name) {
        Matcher found = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
        return found.find() ? found.group(1) : "";
    }

    private static String quoted(String value) {
        return value == null ? "null" : "\"" + value.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static byte[] readAll(InputStream input) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        for (int read; (read = input.read(chunk)) != -1; ) buffer.write(chunk, 0, read);
        return buffer.toByteArray();
    }
}
