// Written for fcemu from Function Compute's documentation of fc-java-core (see docs/java-runtime-notes.md);
// not taken from any fc-java-core jar or source.
package com.aliyun.fc.runtime;

/** FC's logger: one line per call, "<UTC time> <request id> [LEVEL] message". */
public interface FunctionComputeLogger {
    void trace(String message);

    void debug(String message);

    void info(String message);

    void warn(String message);

    void error(String message);

    void fatal(String message);
}
