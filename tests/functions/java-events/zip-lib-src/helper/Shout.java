package helper;

/** A dependency shipped as lib/helper.jar in the function's code zip. */
public final class Shout {
    private Shout() {
    }

    public static String shout(String text) {
        return text.toUpperCase() + "!";
    }
}
