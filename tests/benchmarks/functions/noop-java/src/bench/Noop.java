// The bench's no-op java function: the event back as it came.
package bench;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.StreamRequestHandler;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;

public class Noop implements StreamRequestHandler {
    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        byte[] chunk = new byte[8192];
        for (int read; (read = input.read(chunk)) != -1; ) output.write(chunk, 0, read);
    }
}
