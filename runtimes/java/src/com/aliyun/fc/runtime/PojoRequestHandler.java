// Written for fcemu from Function Compute's documentation of fc-java-core (see docs/java-runtime-notes.md);
// not taken from any fc-java-core jar or source.
package com.aliyun.fc.runtime;

/** Event handler over objects: the event JSON is mapped to {@code I}, the returned {@code O} to JSON. */
public interface PojoRequestHandler<I, O> {
    O handleRequest(I input, Context context) throws Exception;
}
