package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.StreamRequestHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Answers "overlapped" once two invocations are inside it at the same time ("alone" if none joined in 20 s); the
 * event "warm" is answered at once (it starts the instance).
 */
public class Overlap implements StreamRequestHandler {
    private static final CountDownLatch BOTH = new CountDownLatch(2);

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        if (Events.read(input).equals("warm")) {
            output.write("warm".getBytes(StandardCharsets.UTF_8));
            return;
        }
        BOTH.countDown();
        boolean overlapped;
        try {
            overlapped = BOTH.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException error) {
            throw new IOException(error);
        }
        output.write((overlapped ? "overlapped" : "alone").getBytes(StandardCharsets.UTF_8));
    }
}
