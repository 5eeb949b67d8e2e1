package fcemu.agent;

import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.UnsupportedEncodingException;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.net.URLDecoder;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.servlet.DispatcherType;
import javax.servlet.ReadListener;
import javax.servlet.ServletInputStream;
import javax.servlet.http.Cookie;
import javax.servlet.http.HttpServletRequest;

/**
 * The servlet request of an FC 2.0 HTTP function: method, URI, query and form parameters, headers (not FC's own),
 * cookies, the body, and FC's request attributes FC_REQUEST_PATH (the decoded path), FC_REQUEST_URI (path and
 * query) and FC_REQUEST_CLIENT_IP.
 */
final class ServletRequests {
    static HttpServletRequest request(String method, String rawUri, Map<String, List<String>> headers, byte[] body,
                                      String clientIp) {
        InvocationHandler handler = new RequestHandler(method, rawUri, headers, body, clientIp);
        return (HttpServletRequest) Proxy.newProxyInstance(ServletRequests.class.getClassLoader(),
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
                name = HttpServlets.charsetOf(header("content-type"));
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
                    return encoding != null ? encoding : HttpServlets.charsetOf(header("content-type"));
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
                    return HttpServlets.objectMethod(proxy, called, args, "HttpServletRequest(" + method + " " + rawPath + ")");
                default:
                    return HttpServlets.defaultValue(called.getReturnType());
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

    private ServletRequests() {
    }
}
