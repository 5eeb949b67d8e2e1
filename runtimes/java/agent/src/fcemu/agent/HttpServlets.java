package fcemu.agent;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.io.UnsupportedEncodingException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URLDecoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.servlet.DispatcherType;
import javax.servlet.ReadListener;
import javax.servlet.ServletInputStream;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.Cookie;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * FC 2.0's HttpRequestHandler gets a javax.servlet request and response: these are the parts of them an HTTP
 * function uses (method, URI, query and form parameters, headers, cookies, body; status, headers, body), as dynamic
 * proxies. Methods a container-less function has no use for (sessions, dispatchers, async) answer null, false or 0.
 * FC's request attributes FC_REQUEST_PATH (the decoded path), FC_REQUEST_URI (path and query) and
 * FC_REQUEST_CLIENT_IP are set.
 */
final class HttpServlets {
    /** Request headers a function does not see (the hop's own) besides every x-fc-* and x-fcemu-* one. */
    private static final List<String> HIDDEN_REQUEST = List.of("connection", "keep-alive");
    /** Response headers the platform owns (FC ignores them), besides every x-fc-* one. */
    private static final List<String> RESERVED_RESPONSE =
            List.of("connection", "content-length", "date", "keep-alive", "server", "upgrade", "transfer-encoding");

    static boolean visibleRequestHeader(String lower) {
        return !lower.startsWith("x-fc-") && !lower.startsWith("x-fcemu-") && !HIDDEN_REQUEST.contains(lower);
    }

    private static Object defaultValue(Class<?> type) {
        if (type == boolean.class) {
            return false;
        }
        if (type == int.class) {
            return 0;
        }
        if (type == long.class) {
            return 0L;
        }
        return null;
    }

    private static Object objectMethod(Object proxy, Method method, Object[] args, String text) {
        switch (method.getName()) {
            case "hashCode":
                return System.identityHashCode(proxy);
            case "equals":
                return proxy == args[0];
            default:
                return text;
        }
    }

    // -------------------------------------------------------------------------------------------------------
    // The request.

    static HttpServletRequest request(String method, String rawUri, Map<String, List<String>> headers, byte[] body,
                                      String clientIp) {
        InvocationHandler handler = new RequestHandler(method, rawUri, headers, body, clientIp);
        return (HttpServletRequest) Proxy.newProxyInstance(HttpServlets.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, handler);
    }

    private static final class RequestHandler implements InvocationHandler {
        private final String method;
        private final String rawPath;
        private final String query;
        private final Map<String, List<String>> headers; // lower-case name -> values in order
        private final byte[] body;
        private final String clientIp;
        private final Map<String, Object> attributes = new LinkedHashMap<>();
        private Map<String, String[]> parameters;
        private String encoding;
        private Object reading; // the stream or reader handed out

        RequestHandler(String method, String rawUri, Map<String, List<String>> headers, byte[] body, String clientIp) {
            this.method = method;
            int mark = rawUri.indexOf('?');
            this.rawPath = mark < 0 ? rawUri : rawUri.substring(0, mark);
            this.query = mark < 0 ? null : rawUri.substring(mark + 1);
            this.headers = headers;
            this.body = body;
            this.clientIp = clientIp;
            attributes.put("FC_REQUEST_PATH", decode(rawPath, false));
            attributes.put("FC_REQUEST_URI", rawUri);
            attributes.put("FC_REQUEST_CLIENT_IP", clientIp);
        }

        private String header(String name) {
            List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
            return values == null || values.isEmpty() ? null : values.get(0);
        }

        private Charset charset() {
            String name = encoding;
            if (name == null) {
                name = charsetOf(header("content-type"));
            }
            try {
                return name == null ? StandardCharsets.UTF_8 : Charset.forName(name);
            } catch (IllegalArgumentException error) {
                return StandardCharsets.UTF_8;
            }
        }

        private Map<String, String[]> parameters() {
            if (parameters == null) {
                Map<String, List<String>> found = new LinkedHashMap<>();
                parse(query, found);
                String type = header("content-type");
                if ("POST".equalsIgnoreCase(method) && type != null
                        && type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
                    parse(new String(body, charset()), found);
                }
                Map<String, String[]> result = new LinkedHashMap<>();
                found.forEach((name, values) -> result.put(name, values.toArray(new String[0])));
                parameters = Collections.unmodifiableMap(result);
            }
            return parameters;
        }

        private Host host() {
            String value = header("host");
            if (value == null || value.isEmpty()) {
                return new Host("localhost", 80);
            }
            int colon = value.lastIndexOf(':');
            if (colon > 0 && value.indexOf(']') < colon) {
                try {
                    return new Host(value.substring(0, colon), Integer.parseInt(value.substring(colon + 1)));
                } catch (NumberFormatException error) {
                    return new Host(value, 80);
                }
            }
            return new Host(value, 80);
        }

        @Override
        public Object invoke(Object proxy, Method called, Object[] args) throws Throwable {
            switch (called.getName()) {
                case "getMethod":
                    return method;
                case "getRequestURI":
                    return rawPath;
                case "getRequestURL": {
                    Host host = host();
                    return new StringBuffer("http://" + host.name + (host.port == 80 ? "" : ":" + host.port) + rawPath);
                }
                case "getQueryString":
                    return query;
                case "getPathInfo":
                    return decode(rawPath, false);
                case "getServletPath":
                case "getContextPath":
                    return "";
                case "getProtocol":
                    return "HTTP/1.1";
                case "getScheme":
                    return "http";
                case "getServerName":
                case "getLocalName":
                    return host().name;
                case "getServerPort":
                    return host().port;
                case "getLocalPort":
                    return Agent.port();
                case "getRemoteAddr":
                case "getRemoteHost":
                    return clientIp;
                case "getHeader":
                    return header((String) args[0]);
                case "getHeaders": {
                    List<String> values = headers.get(((String) args[0]).toLowerCase(Locale.ROOT));
                    return Collections.enumeration(values == null ? List.of() : values);
                }
                case "getHeaderNames":
                    return Collections.enumeration(new ArrayList<>(headers.keySet()));
                case "getIntHeader": {
                    String value = header((String) args[0]);
                    return value == null ? -1 : Integer.parseInt(value.trim());
                }
                case "getDateHeader": {
                    String value = header((String) args[0]);
                    return value == null ? -1L
                            : ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant().toEpochMilli();
                }
                case "getContentType":
                    return header("content-type");
                case "getContentLength":
                    return body.length;
                case "getContentLengthLong":
                    return (long) body.length;
                case "getCharacterEncoding":
                    return encoding != null ? encoding : charsetOf(header("content-type"));
                case "setCharacterEncoding":
                    encoding = (String) args[0];
                    return null;
                case "getInputStream":
                    if (reading == null) {
                        reading = new BodyInput(body);
                    }
                    if (!(reading instanceof BodyInput)) {
                        throw new IllegalStateException("getReader() has been called on this request");
                    }
                    return reading;
                case "getReader":
                    if (reading == null) {
                        reading = new BufferedReader(new InputStreamReader(new ByteArrayInputStream(body), charset()));
                    }
                    if (!(reading instanceof BufferedReader)) {
                        throw new IllegalStateException("getInputStream() has been called on this request");
                    }
                    return reading;
                case "getParameter": {
                    String[] values = parameters().get((String) args[0]);
                    return values == null ? null : values[0];
                }
                case "getParameterValues":
                    return parameters().get((String) args[0]);
                case "getParameterNames":
                    return Collections.enumeration(parameters().keySet());
                case "getParameterMap":
                    return parameters();
                case "getAttribute":
                    return attributes.get((String) args[0]);
                case "setAttribute":
                    attributes.put((String) args[0], args[1]);
                    return null;
                case "removeAttribute":
                    attributes.remove((String) args[0]);
                    return null;
                case "getAttributeNames":
                    return Collections.enumeration(new ArrayList<>(attributes.keySet()));
                case "getCookies":
                    return cookies(headers.get("cookie"));
                case "getLocale":
                    return Locale.getDefault();
                case "getLocales":
                    return Collections.enumeration(List.of(Locale.getDefault()));
                case "getDispatcherType":
                    return DispatcherType.REQUEST;
                case "getTrailerFields":
                    return Collections.emptyMap();
                case "toString":
                case "hashCode":
                case "equals":
                    return objectMethod(proxy, called, args, "HttpServletRequest(" + method + " " + rawPath + ")");
                default:
                    return defaultValue(called.getReturnType());
            }
        }
    }

    private record Host(String name, int port) {
    }

    private static Cookie[] cookies(List<String> lines) {
        if (lines == null) {
            return null;
        }
        List<Cookie> cookies = new ArrayList<>();
        for (String line : lines) {
            for (String pair : line.split(";")) {
                int equals = pair.indexOf('=');
                String name = (equals < 0 ? pair : pair.substring(0, equals)).trim();
                if (name.isEmpty()) {
                    continue;
                }
                try {
                    cookies.add(new Cookie(name, equals < 0 ? "" : pair.substring(equals + 1).trim()));
                } catch (IllegalArgumentException error) {
                    // a name the servlet API refuses (reserved or with separators): skipped
                }
            }
        }
        return cookies.isEmpty() ? null : cookies.toArray(new Cookie[0]);
    }

    static String charsetOf(String contentType) {
        if (contentType == null) {
            return null;
        }
        for (String part : contentType.split(";")) {
            String trimmed = part.trim();
            if (trimmed.toLowerCase(Locale.ROOT).startsWith("charset=")) {
                return trimmed.substring(8).replace("\"", "").trim();
            }
        }
        return null;
    }

    private static String decode(String text, boolean plusIsSpace) {
        try {
            return URLDecoder.decode(plusIsSpace ? text : text.replace("+", "%2B"), "UTF-8");
        } catch (IllegalArgumentException | UnsupportedEncodingException error) {
            return text;
        }
    }

    private static void parse(String text, Map<String, List<String>> into) {
        if (text == null || text.isEmpty()) {
            return;
        }
        for (String pair : text.split("&")) {
            if (pair.isEmpty()) {
                continue;
            }
            int equals = pair.indexOf('=');
            String name = decode(equals < 0 ? pair : pair.substring(0, equals), true);
            String value = equals < 0 ? "" : decode(pair.substring(equals + 1), true);
            into.computeIfAbsent(name, key -> new ArrayList<>()).add(value);
        }
    }

    private static final class BodyInput extends ServletInputStream {
        private final ByteArrayInputStream in;

        BodyInput(byte[] body) {
            this.in = new ByteArrayInputStream(body);
        }

        @Override
        public int read() {
            return in.read();
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            return in.read(buffer, offset, length);
        }

        @Override
        public boolean isFinished() {
            return in.available() == 0;
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setReadListener(ReadListener listener) {
            throw new IllegalStateException("non-blocking reads are not supported");
        }
    }

    // -------------------------------------------------------------------------------------------------------
    // The response.

    /** What the function answered: its status, headers (name, value, in order) and body. */
    static final class Answer {
        int status = 200;
        final Map<String, List<String[]>> headers = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        PrintWriter writer;
        String encoding;

        List<String[]> headerLines() {
            List<String[]> lines = new ArrayList<>();
            headers.values().forEach(lines::addAll);
            return lines;
        }

        byte[] bodyBytes() {
            if (writer != null) {
                writer.flush();
            }
            return body.toByteArray();
        }
    }

    static HttpServletResponse response(Answer answer) {
        InvocationHandler handler = new ResponseHandler(answer);
        return (HttpServletResponse) Proxy.newProxyInstance(HttpServlets.class.getClassLoader(),
                new Class<?>[] {HttpServletResponse.class}, handler);
    }

    private static final class ResponseHandler implements InvocationHandler {
        private final Answer answer;
        private ServletOutputStream stream;

        ResponseHandler(Answer answer) {
            this.answer = answer;
        }

        private void put(String name, String value, boolean replace) {
            String lower = name.toLowerCase(Locale.ROOT);
            if (lower.startsWith("x-fc-") || RESERVED_RESPONSE.contains(lower) || value == null) {
                return;
            }
            List<String[]> values = answer.headers.computeIfAbsent(name, key -> new ArrayList<>());
            if (replace) {
                values.clear();
            }
            values.add(new String[] {name, value});
        }

        private String first(String name) {
            List<String[]> values = answer.headers.get(name);
            return values == null || values.isEmpty() ? null : values.get(0)[1];
        }

        private static String date(long millis) {
            return DateTimeFormatter.RFC_1123_DATE_TIME.format(Instant.ofEpochMilli(millis).atZone(ZoneOffset.UTC));
        }

        private Charset charset() {
            String name = answer.encoding != null ? answer.encoding : charsetOf(first("Content-Type"));
            try {
                return name == null ? StandardCharsets.ISO_8859_1 : Charset.forName(name);
            } catch (IllegalArgumentException error) {
                return StandardCharsets.ISO_8859_1;
            }
        }

        @Override
        public Object invoke(Object proxy, Method called, Object[] args) throws Throwable {
            switch (called.getName()) {
                case "setStatus":
                    answer.status = (Integer) args[0];
                    return null;
                case "getStatus":
                    return answer.status;
                case "sendError":
                    answer.status = (Integer) args[0];
                    answer.body.reset();
                    if (args.length > 1 && args[1] != null) {
                        put("Content-Type", "text/plain;charset=UTF-8", true);
                        answer.body.write(((String) args[1]).getBytes(StandardCharsets.UTF_8));
                    }
                    return null;
                case "sendRedirect":
                    answer.status = 302;
                    put("Location", (String) args[0], true);
                    return null;
                case "setHeader":
                    put((String) args[0], (String) args[1], true);
                    return null;
                case "addHeader":
                    put((String) args[0], (String) args[1], false);
                    return null;
                case "setIntHeader":
                case "addIntHeader":
                    put((String) args[0], String.valueOf(args[1]), called.getName().startsWith("set"));
                    return null;
                case "setDateHeader":
                case "addDateHeader":
                    put((String) args[0], date((Long) args[1]), called.getName().startsWith("set"));
                    return null;
                case "containsHeader":
                    return answer.headers.containsKey((String) args[0]);
                case "getHeader":
                    return first((String) args[0]);
                case "getHeaders": {
                    List<String> values = new ArrayList<>();
                    answer.headers.getOrDefault((String) args[0], List.of()).forEach(line -> values.add(line[1]));
                    return values;
                }
                case "getHeaderNames":
                    return new ArrayList<>(answer.headers.keySet());
                case "setContentType":
                    put("Content-Type", (String) args[0], true);
                    return null;
                case "getContentType":
                    return first("Content-Type");
                case "setCharacterEncoding":
                    answer.encoding = (String) args[0];
                    return null;
                case "getCharacterEncoding":
                    return charset().name();
                case "getOutputStream":
                    if (answer.writer != null) {
                        throw new IllegalStateException("getWriter() has been called on this response");
                    }
                    if (stream == null) {
                        stream = new BodyOutput(answer.body);
                    }
                    return stream;
                case "getWriter":
                    if (stream != null) {
                        throw new IllegalStateException("getOutputStream() has been called on this response");
                    }
                    if (answer.writer == null) {
                        answer.writer = new PrintWriter(new OutputStreamWriter(answer.body, charset()));
                    }
                    return answer.writer;
                case "addCookie": {
                    Cookie cookie = (Cookie) args[0];
                    StringBuilder line = new StringBuilder(cookie.getName()).append('=').append(cookie.getValue());
                    if (cookie.getPath() != null) {
                        line.append("; Path=").append(cookie.getPath());
                    }
                    if (cookie.getDomain() != null) {
                        line.append("; Domain=").append(cookie.getDomain());
                    }
                    if (cookie.getMaxAge() >= 0) {
                        line.append("; Max-Age=").append(cookie.getMaxAge());
                    }
                    if (cookie.getSecure()) {
                        line.append("; Secure");
                    }
                    if (cookie.isHttpOnly()) {
                        line.append("; HttpOnly");
                    }
                    put("Set-Cookie", line.toString(), false);
                    return null;
                }
                case "reset":
                    answer.status = 200;
                    answer.headers.clear();
                    answer.body.reset();
                    return null;
                case "resetBuffer":
                    answer.body.reset();
                    return null;
                case "flushBuffer":
                    if (answer.writer != null) {
                        answer.writer.flush();
                    }
                    return null;
                case "encodeURL":
                case "encodeRedirectURL":
                case "encodeUrl":
                case "encodeRedirectUrl":
                    return args[0];
                case "getLocale":
                    return Locale.getDefault();
                case "getBufferSize":
                    return Integer.MAX_VALUE;
                case "toString":
                case "hashCode":
                case "equals":
                    return objectMethod(proxy, called, args, "HttpServletResponse(" + answer.status + ")");
                default:
                    return defaultValue(called.getReturnType());
            }
        }
    }

    private static final class BodyOutput extends ServletOutputStream {
        private final ByteArrayOutputStream out;

        BodyOutput(ByteArrayOutputStream out) {
            this.out = out;
        }

        @Override
        public void write(int b) {
            out.write(b);
        }

        @Override
        public void write(byte[] buffer, int offset, int length) {
            out.write(buffer, offset, length);
        }

        @Override
        public boolean isReady() {
            return true;
        }

        @Override
        public void setWriteListener(WriteListener listener) {
            throw new IllegalStateException("non-blocking writes are not supported");
        }
    }

    private HttpServlets() {
    }
}
