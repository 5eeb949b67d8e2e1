// Written for fcemu from Function Compute's documentation of fc-java-core (see docs/java-runtime-notes.md);
// not taken from any fc-java-core jar or source.
package com.aliyun.fc.runtime;

/** The invoked service (FC 2.0) or its FC 3.0 equivalent. Names PROVISIONAL (FC documents this in prose only). */
public interface Service {
    String getName();

    String getLogProject();

    String getLogStore();

    String getQualifier();

    String getVersionId();
}
