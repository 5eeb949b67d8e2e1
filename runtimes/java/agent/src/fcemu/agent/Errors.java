package fcemu.agent;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * FC's Java error: `{"errorMessage", "errorType", "errorCause", "stackTrace"}` (FC's "Error handling" page for
 * Java): the type is the exception's class name, the cause the message of its root cause, the stack trace the
 * frames of the function's code (StackTraceElement's text), without the agent's and reflection's beneath them.
 * A handler that cannot be loaded is reported the same way, as the class of what went wrong (a
 * ClassNotFoundException, a NoSuchMethodException) with no frames.
 */
final class Errors {
    private static final DateTimeFormatter TIME =
            DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

    private Errors() {
    }

    private static Throwable reported(Throwable error) {
        // A load error whose cause is the function's own exception (a constructor that threw) is that exception.
        if (error instanceof Handlers.LoadError && error.getCause() != null
                && !(error.getCause() instanceof ClassNotFoundException)
                && !(error.getCause() instanceof NoSuchMethodException)
                && !(error.getCause() instanceof NoSuchMethodError)) {
            return error.getCause();
        }
        return error;
    }

    private static String type(Throwable error) {
        if (error instanceof Handlers.LoadError) {
            return error.getCause() == null ? IllegalArgumentException.class.getName()
                    : error.getCause().getClass().getName();
        }
        return error.getClass().getName();
    }

    private static List<String> frames(Throwable error) {
        List<String> frames = new ArrayList<>();
        if (error instanceof Handlers.LoadError) {
            return frames;
        }
        for (StackTraceElement frame : error.getStackTrace()) {
            String className = frame.getClassName();
            if (className.startsWith("fcemu.") || className.startsWith("jdk.internal.reflect.")
                    || className.startsWith("java.lang.reflect.")) {
                break;
            }
            frames.add(frame.toString());
        }
        return frames;
    }

    static Agent.Reply reply(Throwable thrown) {
        Throwable error = reported(thrown);
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        Map<String, Object> body = new LinkedHashMap<>();
        String message = error.getMessage();
        body.put("errorMessage", message == null ? "" : message);
        body.put("errorType", type(error));
        String cause = root.getMessage();
        body.put("errorCause", cause == null ? "" : cause);
        body.put("stackTrace", frames(error));
        byte[] json;
        try {
            json = Agent.Json.MAPPER.writeValueAsBytes(body);
        } catch (Exception impossible) {
            json = "{\"errorMessage\":\"\",\"errorType\":\"java.lang.Error\"}".getBytes(StandardCharsets.UTF_8);
        }
        List<String[]> headers = new ArrayList<>();
        headers.add(new String[] {"Content-Type", "application/json"});
        headers.add(new String[] {"x-fc-status", "404"});
        return new Agent.Reply(200, headers, json);
    }

    /** The error in the function's log: FC's log line, then the frames. */
    static void print(Throwable thrown, String requestId) {
        Throwable error = reported(thrown);
        StringBuilder text = new StringBuilder(TIME.format(Instant.now())).append(' ').append(requestId)
                .append(" [ERROR] ").append(type(error));
        if (error.getMessage() != null) {
            text.append(": ").append(error.getMessage());
        }
        text.append('\n');
        for (String frame : frames(error)) {
            text.append("\tat ").append(frame).append('\n');
        }
        Output.line(text.toString());
    }
}
