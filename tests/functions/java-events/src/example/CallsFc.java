package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.StreamRequestHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.HttpURLConnection;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Calls FC's API at its internal endpoint name over HTTPS, unsigned (the event is the path): its answer proves the
 * name, the relay and the certificate all worked.
 */
public class CallsFc implements StreamRequestHandler {
    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        String endpoint = "https://" + System.getenv("FC_ACCOUNT_ID") + "." + System.getenv("FC_REGION")
                + "-internal.fc.aliyuncs.com";
        HttpURLConnection connection = (HttpURLConnection) new URL(endpoint + Events.read(input)).openConnection();
        int status = connection.getResponseCode();
        InputStream body = status < 400 ? connection.getInputStream() : connection.getErrorStream();
        Map<String, Object> seen = new LinkedHashMap<>();
        seen.put("status", status);
        seen.put("body", body == null ? "" : Events.read(body));
        output.write(Json.of(seen).getBytes(StandardCharsets.UTF_8));
    }
}
