// Written for fcemu from Function Compute's documentation of fc-java-core (see docs/java-runtime-notes.md);
// the method names are those a jar compiled against fc-java-core links to (public source copies of the interface).
package com.aliyun.fc.runtime;

/** FC's logger: one line per call, "<UTC time> <request id> [LEVEL] message", on stdout. */
public interface FunctionComputeLogger {
    void trace(String message);

    void debug(String message);

    void info(String message);

    void warn(String message);

    void error(String message);

    /** FC's log page documents fatal too; default methods keep a jar built against an older copy linking. */
    default void fatal(String message) {
        error(message);
    }

    /** Lines below this level are dropped (default: all). */
    default void setLogLevel(Level level) {
    }

    enum Level {
        TRACE, DEBUG, INFO, WARN, ERROR, FATAL
    }
}
