package fcemu.agent;

import com.aliyun.fc.runtime.Context;
import java.io.File;
import java.lang.reflect.Constructor;
import java.lang.reflect.Method;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The function's classes and its handlers. FC's handler string is `package.Class::method` (FC: "must"; anything
 * else is refused, as there). The class path is FC's: the code
 * directory, its top-level jars, its lib/ jars, then the layers' /opt/java/lib jars. The loader's parent is the
 * JVM's class loader, which holds the runtime's com.aliyun.fc.runtime interfaces and javax.servlet: parent-first
 * delegation makes those win over the copies a fat jar carries, and nothing else of the agent is visible.
 * One instance of each class is made (its public no-argument constructor) and shared by its handler and hooks.
 */
final class Handlers {
    /** A handler that cannot be loaded: FC's error for it (its type is the cause's class name). */
    static final class LoadError extends Exception {
        LoadError(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** A resolved handler method on its class's instance. */
    static final class Target {
        final Object instance;
        final Method method;
        final Type[] parameters;

        Target(Object instance, Method method) {
            this.instance = instance;
            this.method = method;
            this.parameters = method.getGenericParameterTypes();
        }
    }

    private final ClassLoader loader;
    private final ConcurrentHashMap<String, Object> instances = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, Target> targets = new ConcurrentHashMap<>();

    Handlers(String codeDir) {
        // Unnamed: a named loader would prefix its name to every frame of the function's stack traces.
        this.loader = new URLClassLoader(classPath(codeDir), ClassLoader.getSystemClassLoader());
    }

    ClassLoader loader() {
        return loader;
    }

    static URL[] classPath(String codeDir) {
        List<URL> urls = new ArrayList<>();
        try {
            urls.add(new File(codeDir).toURI().toURL());
            jars(new File(codeDir), urls);
            jars(new File(codeDir, "lib"), urls);
            jars(new File("/opt/java/lib"), urls);
        } catch (MalformedURLException error) {
            throw new IllegalStateException(error);
        }
        return urls.toArray(new URL[0]);
    }

    private static void jars(File dir, List<URL> urls) throws MalformedURLException {
        File[] files = dir.listFiles((parent, name) -> name.endsWith(".jar"));
        if (files == null) {
            return;
        }
        Arrays.sort(files);
        for (File file : files) {
            if (file.isFile()) {
                urls.add(file.toURI().toURL());
            }
        }
    }

    /**
     * The method `name` of the class the handler string names, taking `arity` parameters whose last is FC's
     * Context and, with `first`, whose first accepts that type (a bridge method of a generic interface is not taken
     * when a typed one exists).
     */
    Target resolve(String handler, int arity, Class<?> first) throws LoadError {
        String key = handler + "/" + arity + "/" + (first == null ? "" : first.getName());
        Target known = targets.get(key);
        if (known != null) {
            return known;
        }
        int split = handler.indexOf("::");
        String className = split < 0 ? "" : handler.substring(0, split);
        String methodName = split < 0 ? "" : handler.substring(split + 2);
        if (className.isEmpty() || methodName.isEmpty()) {
            throw new LoadError("Invalid handler '" + handler + "': FC's Java handler is package.Class::method", null);
        }
        Object instance = instance(className);
        Method chosen = null;
        for (Method method : instance.getClass().getMethods()) {
            if (!method.getName().equals(methodName) || method.getParameterCount() != arity) {
                continue;
            }
            Class<?>[] types = method.getParameterTypes();
            if (!types[arity - 1].isAssignableFrom(Context.class) || first != null && !types[0].isAssignableFrom(first)) {
                continue;
            }
            if (chosen == null || chosen.isBridge() && !method.isBridge()) {
                chosen = method;
            }
        }
        if (chosen == null) {
            throw new LoadError("Method '" + methodName + "' with " + arity + " parameters (the last a "
                    + "com.aliyun.fc.runtime.Context) not found in class " + className,
                    new NoSuchMethodException(className + "::" + methodName));
        }
        chosen.setAccessible(true);
        Target target = new Target(instance, chosen);
        targets.put(key, target);
        return target;
    }

    private Object instance(String className) throws LoadError {
        Object known = instances.get(className);
        if (known != null) {
            return known;
        }
        synchronized (instances) {
            known = instances.get(className);
            if (known != null) {
                return known;
            }
            Class<?> type;
            try {
                type = Class.forName(className, true, loader);
            } catch (ClassNotFoundException error) {
                throw new LoadError("Class not found: " + className, error);
            } catch (LinkageError error) {
                // Its static initializer threw (ExceptionInInitializerError), or a class it needs is missing.
                throw new LoadError("Class " + className + " could not be loaded: " + error, error);
            }
            Object instance;
            try {
                Constructor<?> constructor = type.getDeclaredConstructor();
                constructor.setAccessible(true);
                instance = constructor.newInstance();
            } catch (java.lang.reflect.InvocationTargetException error) {
                throw new LoadError("Failed to create an instance of " + className, error.getCause());
            } catch (ReflectiveOperationException | LinkageError error) {
                throw new LoadError("Failed to create an instance of " + className
                        + " (a public no-argument constructor is needed)", error);
            }
            instances.put(className, instance);
            return instance;
        }
    }

    /**
     * The POJO input type of a 2-parameter handler: its declared parameter type, or, when that is a type variable
     * (a handler written against PojoRequestHandler<I, O> generically), the type argument its class gives.
     */
    static Type inputType(Target target) {
        Type declared = target.parameters[0];
        if (declared instanceof Class || declared instanceof ParameterizedType) {
            return declared;
        }
        for (Class<?> type = target.instance.getClass(); type != null; type = type.getSuperclass()) {
            for (Type generic : type.getGenericInterfaces()) {
                if (generic instanceof ParameterizedType parameterized
                        && parameterized.getRawType() == com.aliyun.fc.runtime.PojoRequestHandler.class) {
                    return parameterized.getActualTypeArguments()[0];
                }
            }
        }
        return Object.class;
    }
}
