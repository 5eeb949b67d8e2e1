package fcemu.boot;

import java.io.File;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.List;

/**
 * Starts fcemu's Java agent in a class loader of its own. The JVM's class path holds only this class, FC's
 * com.aliyun.fc.runtime interfaces and javax.servlet: the function's class loader (a child of the JVM's) then sees
 * the runtime's copies of those first, and nothing of the agent's own libraries (Jackson), so a function that
 * brings its own Jackson uses its own. The agent's loader is a sibling of the function's: it sees the same
 * interfaces, and its Jackson.
 *
 * Arguments: the agent's jars (path-separated), then the agent's arguments.
 */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) throws Throwable {
        List<URL> urls = new ArrayList<>();
        for (String path : args[0].split(File.pathSeparator)) {
            if (!path.isEmpty()) {
                urls.add(new File(path).toURI().toURL());
            }
        }
        ClassLoader agentLoader = new URLClassLoader("fcemu-agent", urls.toArray(new URL[0]),
                ClassLoader.getSystemClassLoader());
        Method main = agentLoader.loadClass("fcemu.agent.Agent").getMethod("main", String[].class);
        String[] rest = new String[args.length - 1];
        System.arraycopy(args, 1, rest, 0, rest.length);
        try {
            main.invoke(null, (Object) rest);
        } catch (java.lang.reflect.InvocationTargetException error) {
            throw error.getCause();
        }
    }
}
