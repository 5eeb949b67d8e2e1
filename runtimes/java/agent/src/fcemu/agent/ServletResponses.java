package fcemu.agent;

import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import javax.servlet.ServletOutputStream;
import javax.servlet.WriteListener;
import javax.servlet.http.Cookie;
import javax.servlet.http.HttpServletResponse;

/** The servlet response of an FC 2.0 HTTP function, gathered into an Answer: status, headers, body. */
final class ServletResponses {
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
        return (HttpServletResponse) Proxy.newProxyInstance(ServletResponses.class.getClassLoader(),
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
            if (lower.startsWith("x-fc-") || HttpServlets.RESERVED_RESPONSE.contains(lower) || value == null) {
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
            String name = answer.encoding != null ? answer.encoding : HttpServlets.charsetOf(first("Content-Type"));
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
                    return HttpServlets.objectMethod(proxy, called, args, "HttpServletResponse(" + answer.status + ")");
                default:
                    return HttpServlets.defaultValue(called.getReturnType());
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

    private ServletResponses() {
    }
}
