package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.StreamRequestHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;

/** Uses greeter.Greeter, which only the function's layer (/opt/java/lib/greeter.jar) has. */
public class LayerMain implements StreamRequestHandler {
    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        output.write(greeter.Greeter.greet(Events.read(input)).getBytes(StandardCharsets.UTF_8));
    }
}
