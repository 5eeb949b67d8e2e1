package greeter;

/** A layer's library: /opt/java/lib/greeter.jar. */
public final class Greeter {
    private Greeter() {
    }

    public static String greet(String name) {
        return "hello " + name + " from a layer";
    }
}
