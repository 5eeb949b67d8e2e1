// Written for fcemu from Function Compute's documentation of fc-java-core (see docs/java-runtime-notes.md);
// not taken from any fc-java-core jar or source.
package com.aliyun.fc.runtime;

/** What FC passes to every handler and hook. */
public interface Context {
    String getRequestId();

    Credentials getExecutionCredentials();

    FunctionParam getFunctionParam();

    FunctionComputeLogger getLogger();

    Service getService();

    OpenTracing getTracing();

    int getRetryCount();
}
