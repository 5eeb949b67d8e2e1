// Written for fcemu from Function Compute's documentation of fc-java-core (see docs/java-runtime-notes.md);
// not taken from any fc-java-core jar or source.
package com.aliyun.fc.runtime;

import java.io.IOException;
import javax.servlet.ServletException;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/** FC 2.0 HTTP trigger handler (fc-java-core 1.3.0 and later), Servlet based. */
public interface HttpRequestHandler {
    void handleRequest(HttpServletRequest request, HttpServletResponse response, Context context)
            throws IOException, ServletException;
}
