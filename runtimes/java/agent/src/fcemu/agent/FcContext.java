package fcemu.agent;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.Credentials;
import com.aliyun.fc.runtime.FunctionComputeLogger;
import com.aliyun.fc.runtime.FunctionParam;
import com.aliyun.fc.runtime.OpenTracing;
import com.aliyun.fc.runtime.Service;
import com.fasterxml.jackson.core.type.TypeReference;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Collections;
import java.util.Map;

/** FC's Context for one request, from the control plane's x-fc-* headers (lower-case name to the last value). */
final class FcContext implements Context, Credentials, FunctionParam, Service, OpenTracing {
    private final Map<String, String> headers;
    private final String requestId;
    private final Logger logger;

    FcContext(Map<String, String> headers) {
        this.headers = headers;
        this.requestId = get("x-fc-request-id");
        this.logger = new Logger(requestId);
    }

    String get(String name) {
        String value = headers.get(name);
        return value == null ? "" : value;
    }

    private int integer(String name) {
        try {
            return Integer.parseInt(get(name).trim());
        } catch (NumberFormatException error) {
            return 0;
        }
    }

    @Override
    public String getRequestId() {
        return requestId;
    }

    /** FC's credentials are a function's role's: none (null) for a function without one, as FC. */
    @Override
    public Credentials getExecutionCredentials() {
        return headers.containsKey("x-fc-access-key-id") ? this : null;
    }

    @Override
    public FunctionParam getFunctionParam() {
        return this;
    }

    @Override
    public FunctionComputeLogger getLogger() {
        return logger;
    }

    @Override
    public Service getService() {
        return this;
    }

    @Override
    public OpenTracing getTracing() {
        return this;
    }

    @Override
    public int getRetryCount() {
        return integer("x-fc-retry-count");
    }

    // Credentials
    @Override
    public String getAccessKeyId() {
        return get("x-fc-access-key-id");
    }

    @Override
    public String getAccessKeySecret() {
        return get("x-fc-access-key-secret");
    }

    @Override
    public String getSecurityToken() {
        return get("x-fc-security-token");
    }

    // FunctionParam
    @Override
    public String getFunctionName() {
        return get("x-fc-function-name");
    }

    @Override
    public String getFunctionHandler() {
        return get("x-fc-function-handler");
    }

    @Override
    public String getFunctionInitializer() {
        return get("x-fc-function-initializer");
    }

    /** x-fc-function-timeout is in seconds; fc-java-core's getter says milliseconds. */
    @Override
    public int getExecTimeLimitInMillis() {
        return integer("x-fc-function-timeout") * 1000;
    }

    @Override
    public int getMemoryLimitInMB() {
        return integer("x-fc-function-memory");
    }

    // Service
    @Override
    public String getName() {
        return get("x-fc-service-name");
    }

    @Override
    public String getLogProject() {
        return get("x-fc-service-logproject");
    }

    @Override
    public String getLogStore() {
        return get("x-fc-service-logstore");
    }

    @Override
    public String getQualifier() {
        String qualifier = get("x-fc-qualifier");
        return qualifier.isEmpty() ? "LATEST" : qualifier;
    }

    @Override
    public String getVersionId() {
        return get("x-fc-version-id");
    }

    // OpenTracing
    @Override
    public String getSpanContext() {
        return get("x-fc-tracing-opentracing-span-context");
    }

    /** The baggages header is base64 of a JSON object, as the other runtimes read it. */
    @Override
    public Map<String, String> getSpanBaggages() {
        String baggages = get("x-fc-tracing-opentracing-span-baggages");
        if (baggages.isEmpty()) {
            return Collections.emptyMap();
        }
        try {
            return Agent.Json.MAPPER.readValue(Base64.getDecoder().decode(baggages),
                    new TypeReference<Map<String, String>>() { });
        } catch (Exception error) {
            return Collections.emptyMap();
        }
    }

    @Override
    public String getJaegerEndpoint() {
        return get("x-fc-tracing-jaeger-endpoint");
    }

    /** FC's Java log line: "<UTC time, ms> <request id> [LEVEL] message", one write. */
    static final class Logger implements FunctionComputeLogger {
        private static final DateTimeFormatter TIME =
                DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);
        private final String requestId;
        private volatile Level minimum = Level.TRACE;

        Logger(String requestId) {
            this.requestId = requestId;
        }

        private void log(Level level, String message) {
            if (level.ordinal() >= minimum.ordinal()) {
                Output.line(TIME.format(Instant.now()) + " " + requestId + " [" + level + "] " + message + "\n");
            }
        }

        @Override
        public void trace(String message) {
            log(Level.TRACE, message);
        }

        @Override
        public void debug(String message) {
            log(Level.DEBUG, message);
        }

        @Override
        public void info(String message) {
            log(Level.INFO, message);
        }

        @Override
        public void warn(String message) {
            log(Level.WARN, message);
        }

        @Override
        public void error(String message) {
            log(Level.ERROR, message);
        }

        @Override
        public void fatal(String message) {
            log(Level.FATAL, message);
        }

        @Override
        public void setLogLevel(Level level) {
            minimum = level == null ? Level.TRACE : level;
        }
    }
}
