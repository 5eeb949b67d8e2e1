package fcemu.agent;

import java.io.BufferedOutputStream;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * System.out and System.err, teed into the output of the invocation running on the writing thread (for the log
 * tail, x-fc-log-result). The invocation is an InheritableThreadLocal: threads a handler starts write into its
 * invocation's output too, until it ends.
 */
final class Output {
    static final int LOG_TAIL_BYTES = 4096;

    /**
     * One invocation's output, kept only when the request asked for the log tail: its last LOG_TAIL_BYTES in a ring,
     * however much the invocation writes.
     */
    static final class Capture {
        private byte[] ring = new byte[LOG_TAIL_BYTES];
        private long written;

        synchronized void write(byte[] data, int offset, int length) {
            if (ring == null) {
                return;
            }
            int skipped = Math.max(0, length - LOG_TAIL_BYTES); // older than the tail already
            written += skipped;
            int from = offset + skipped;
            int left = length - skipped;
            while (left > 0) {
                int at = (int) (written % LOG_TAIL_BYTES);
                int count = Math.min(left, LOG_TAIL_BYTES - at);
                System.arraycopy(data, from, ring, at, count);
                from += count;
                left -= count;
                written += count;
            }
        }

        /** The last LOG_TAIL_BYTES written, oldest first; nothing is kept after. */
        synchronized byte[] close() {
            int size = (int) Math.min(written, LOG_TAIL_BYTES);
            int start = (int) ((written - size) % LOG_TAIL_BYTES);
            int first = Math.min(size, LOG_TAIL_BYTES - start);
            byte[] tail = new byte[size];
            System.arraycopy(ring, start, tail, 0, first);
            System.arraycopy(ring, 0, tail, first, size - first);
            ring = null;
            return tail;
        }
    }

    private static final InheritableThreadLocal<Capture> CURRENT = new InheritableThreadLocal<>();

    static void begin(Capture capture) {
        CURRENT.set(capture);
    }

    static void end() {
        CURRENT.remove();
    }

    /** Writes through to the real stream, and into the current invocation's capture if any. */
    private static final class Tee extends OutputStream {
        private final OutputStream real;

        Tee(OutputStream real) {
            this.real = real;
        }

        @Override
        public void write(int b) throws IOException {
            write(new byte[] {(byte) b}, 0, 1);
        }

        @Override
        public void write(byte[] data, int offset, int length) throws IOException {
            Capture capture = CURRENT.get();
            if (capture != null) {
                capture.write(data, offset, length);
            }
            real.write(data, offset, length);
        }

        @Override
        public void flush() throws IOException {
            real.flush();
        }
    }

    static PrintStream out;

    /**
     * Replaces System.out and System.err. Each is buffered and flushed at every line (println, or a print with a
     * newline): one write to Docker's log pipe per line, which is what the emulator's log pump reads lines from.
     */
    static void install() {
        out = stream(FileDescriptor.out);
        System.setOut(out);
        System.setErr(stream(FileDescriptor.err));
    }

    private static PrintStream stream(FileDescriptor descriptor) {
        OutputStream real = new BufferedOutputStream(new FileOutputStream(descriptor), 1 << 16);
        return new PrintStream(new Tee(real), true, StandardCharsets.UTF_8);
    }

    /** One whole line (or lines) on stdout in one write, as FC's framing lines must be. */
    static void line(String text) {
        byte[] data = text.getBytes(StandardCharsets.UTF_8);
        synchronized (out) {
            out.write(data, 0, data.length);
            out.flush();
        }
    }

    private Output() {
    }
}
