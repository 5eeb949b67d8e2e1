// Written for fcemu from Function Compute's documentation of fc-java-core (see docs/java-runtime-notes.md);
// the method names are those a jar compiled against fc-java-core links to (public source copies of the interface).
package com.aliyun.fc.runtime;

/** The invoked function (FC: "name, handler, memory, and timeout period"). */
public interface FunctionParam {
    String getFunctionName();

    String getFunctionHandler();

    String getFunctionInitializer();

    /** The function's timeout, in milliseconds. */
    int getExecTimeLimitInMillis();

    /** The function's memory size, in MB. */
    int getMemoryLimitInMB();
}
