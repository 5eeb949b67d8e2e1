package fcemu.agent;

import java.lang.reflect.Method;
import java.util.List;
import java.util.Locale;

/**
 * FC 2.0's HttpRequestHandler gets a javax.servlet request and response (ServletRequests, ServletResponses): the parts
 * of them an HTTP function uses, as dynamic proxies. Methods a container-less function has no use for (sessions,
 * dispatchers, async) answer null, false or 0. This holds what both share.
 */
final class HttpServlets {
    /** Request headers a function does not see (the hop's own) besides every x-fc-* and x-fcemu-* one. */
    private static final List<String> HIDDEN_REQUEST = List.of("connection", "keep-alive");
    /** Response headers the platform owns (FC ignores them), besides every x-fc-* one. */
    static final List<String> RESERVED_RESPONSE =
            List.of("connection", "content-length", "date", "keep-alive", "server", "upgrade", "transfer-encoding");

    static boolean visibleRequestHeader(String lower) {
        return !lower.startsWith("x-fc-") && !lower.startsWith("x-fcemu-") && !HIDDEN_REQUEST.contains(lower);
    }

    static Object defaultValue(Class<?> type) {
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

    static Object objectMethod(Object proxy, Method method, Object[] args, String text) {
        switch (method.getName()) {
            case "hashCode":
                return System.identityHashCode(proxy);
            case "equals":
                return proxy == args[0];
            default:
                return text;
        }
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

    private HttpServlets() {
    }
}
