package io.lit4j;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/** Build facts baked into the jar: lit4j's version and the oneDNN artifact it carries. */
public final class Version {
    private static final Properties PROPS = load();

    private Version() {
    }

    private static Properties load() {
        Properties p = new Properties();
        try (InputStream in = Version.class.getResourceAsStream("lit4j.properties")) {
            if (in != null) {
                p.load(in);
            }
        } catch (IOException e) {
            throw new LitException("cannot read lit4j.properties from the class path", e);
        }
        return p;
    }

    /** lit4j's version, e.g. 0.1.0-SNAPSHOT. */
    public static String lit4j() {
        return PROPS.getProperty("version", "dev");
    }

    /** The oneDNN jar version, e.g. 3.13-1.5.14; it keys the native-library cache folder. */
    public static String dnnlArtifactVersion() {
        return PROPS.getProperty("dnnl.version", "unknown");
    }
}
