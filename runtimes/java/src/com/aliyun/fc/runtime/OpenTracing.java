// Written for fcemu from Function Compute's documentation of fc-java-core (see docs/java-runtime-notes.md);
// the method names are those a jar compiled against fc-java-core links to (public source copies of the interface).
package com.aliyun.fc.runtime;

import java.util.Map;

/** Tracing Analysis data: empty in fcemu but for what the request carried. */
public interface OpenTracing {
    String getSpanContext();

    Map<String, String> getSpanBaggages();

    String getJaegerEndpoint();
}
