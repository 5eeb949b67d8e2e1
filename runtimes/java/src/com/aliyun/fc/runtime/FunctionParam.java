// Written for fcemu from Function Compute's documentation of fc-java-core (see docs/java-runtime-notes.md);
// not taken from any fc-java-core jar or source.
package com.aliyun.fc.runtime;

/**
 * The invoked function (FC: "name, handler, memory, and timeout period"). Only getFunctionName is confirmed by usage;
 * the other names and types are PROVISIONAL until checked against a jar compiled with fc-java-core.
 */
public interface FunctionParam {
    String getFunctionName();

    String getFunctionHandler();

    String getFunctionInitializer();

    int getMemory();

    int getTimeout();

    int getInitializationTimeout();
}
