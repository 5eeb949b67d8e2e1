// Written for fcemu from Function Compute's documentation of fc-java-core (see docs/java-runtime-notes.md);
// not taken from any fc-java-core jar or source.
package com.aliyun.fc.runtime;

import java.io.IOException;

/** The PreStop hook: called before the instance is destroyed. */
public interface PreStopHandler {
    void preStop(Context context) throws IOException;
}
