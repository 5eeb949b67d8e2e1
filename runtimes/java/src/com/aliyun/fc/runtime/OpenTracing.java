// Written for fcemu from Function Compute's documentation of fc-java-core (see docs/java-runtime-notes.md);
// not taken from any fc-java-core jar or source.
package com.aliyun.fc.runtime;

/** Tracing Analysis data. Names PROVISIONAL (FC documents this in prose only). */
public interface OpenTracing {
    String getOpenTracingSpanContext();

    String getOpenTracingSpanBaggages();

    String getJaegerEndpoint();
}
