package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.HttpRequestHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/** FC 2.0's HttpRequestHandler: answers 201 with what it saw of the request. */
public class Web implements HttpRequestHandler {
    @Override
    public void handleRequest(HttpServletRequest request, HttpServletResponse response, Context context)
            throws IOException {
        Map<String, Object> seen = new LinkedHashMap<>();
        seen.put("method", request.getMethod());
        seen.put("path", request.getAttribute("FC_REQUEST_PATH"));
        seen.put("uri", request.getAttribute("FC_REQUEST_URI"));
        seen.put("requestURI", request.getRequestURI());
        seen.put("query", request.getQueryString());
        seen.put("a", String.join(",", request.getParameterValues("a")));
        seen.put("header", request.getHeader("X-Custom"));
        seen.put("agentHeaderSeen", request.getHeader("x-fcemu-agent-token") != null);
        seen.put("body", Events.read(request.getInputStream()));
        seen.put("requestId", context.getRequestId());
        response.setStatus(201);
        response.setHeader("X-Served-By", "java-web");
        response.setContentType("application/json");
        OutputStream out = response.getOutputStream();
        out.write(Json.of(seen).getBytes(StandardCharsets.UTF_8));
    }
}
