// Written for fcemu from Function Compute's documentation of fc-java-core (see docs/java-runtime-notes.md);
// not taken from any fc-java-core jar or source.
package com.aliyun.fc.runtime;

import java.io.IOException;

/** The Initializer hook: called once per instance before its first invocation. */
public interface FunctionInitializer {
    void initialize(Context context) throws IOException;
}
