// send-email in Java: FC's example of work a sign-up endpoint hands off asynchronously. A StreamRequestHandler, as
// in FC's java11 runtime; a few lines of SMTP over a socket keep it free of libraries (a real project would put
// Jakarta Mail in its jar).
package example;

import com.aliyun.fc.runtime.Context;
import com.aliyun.fc.runtime.StreamRequestHandler;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.Writer;
import java.io.OutputStreamWriter;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class SendEmail implements StreamRequestHandler {
    // The event is {"to": ..., "name": ...}; two fields do not need a JSON library.
    private static final Pattern FIELD = Pattern.compile("\"(to|name)\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    @Override
    public void handleRequest(InputStream input, OutputStream output, Context context) throws IOException {
        String event = new String(readAll(input), StandardCharsets.UTF_8);
        String to = null;
        String name = "there";
        Matcher field = FIELD.matcher(event);
        while (field.find()) {
            if (field.group(1).equals("to")) to = field.group(2);
            else name = field.group(2);
        }
        if (to == null) throw new IllegalArgumentException("the event names no recipient (\"to\")");
        String from = setting("MAIL_FROM", "noreply@example.com");
        String host = setting("SMTP_HOST", "host.docker.internal");
        int port = Integer.parseInt(setting("SMTP_PORT", "1025"));
        String message = String.join("\r\n", "From: " + from, "To: " + to, "Subject: Welcome aboard",
                "X-Request-Id: " + context.getRequestId(), "Content-Type: text/plain; charset=utf-8", "",
                "Hello " + name + ",", "", "your registration is complete.");
        send(host, port, from, to, message);
        context.getLogger().info("registration mail sent to " + to + " through " + host + ":" + port);
        output.write(("{\"sent\": true, \"to\": \"" + to + "\"}").getBytes(StandardCharsets.UTF_8));
    }

    private static void send(String host, int port, String from, String to, String message) throws IOException {
        try (Socket socket = new Socket(host, port)) {
            socket.setSoTimeout(5000);
            BufferedReader replies = new BufferedReader(
                    new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            Writer commands = new OutputStreamWriter(socket.getOutputStream(), StandardCharsets.UTF_8);
            expect(replies);
            String data = message.replaceAll("(?m)^\\.", "..") + "\r\n.";
            for (String command : new String[] {"HELO fc", "MAIL FROM:<" + from + ">", "RCPT TO:<" + to + ">",
                    "DATA", data, "QUIT"}) {
                commands.write(command + "\r\n");
                commands.flush();
                expect(replies);
            }
        }
    }

    /** Reads one SMTP reply (its last line has a space after the code); a 4xx or 5xx one is an error. */
    private static void expect(BufferedReader replies) throws IOException {
        String line;
        do {
            line = replies.readLine();
            if (line == null) throw new IOException("SMTP connection closed early");
        } while (line.length() > 3 && line.charAt(3) == '-');
        if (line.charAt(0) >= '4') throw new IOException("SMTP refused: " + line);
    }

    private static String setting(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isEmpty() ? fallback : value;
    }

    private static byte[] readAll(InputStream input) throws IOException {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        byte[] chunk = new byte[8192];
        for (int read; (read = input.read(chunk)) != -1; ) buffer.write(chunk, 0, read);
        return buffer.toByteArray();
    }
}
