package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.StreamRequestHandler;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Compiled classes at the code zip's top, its dependency in lib/helper.jar. */
public class ZipMain implements StreamRequestHandler {
    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        for (int read; (read = input.read(chunk)) != -1; ) {
            bytes.write(chunk, 0, read);
        }
        String event = new String(bytes.toByteArray(), StandardCharsets.UTF_8);
        output.write(helper.Shout.shout(event).getBytes(StandardCharsets.UTF_8));
    }
}
