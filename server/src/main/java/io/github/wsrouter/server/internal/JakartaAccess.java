package io.github.wsrouter.server.internal;

import io.github.wsrouter.server.jakarta.JakartaRoutes;
import java.util.function.Function;

/**
 * How {@code WsServer} makes {@link JakartaRoutes} from the settings its builder collected, with no
 * public factory that names {@link Settings}: {@code JakartaRoutes} registers its own when its
 * class is initialised.
 */
public final class JakartaAccess {

    private static volatile Function<Settings, JakartaRoutes> factory;

    private JakartaAccess() {}

    /** Called once, by {@code JakartaRoutes}'s static initialiser. */
    public static void register(Function<Settings, JakartaRoutes> routes) {
        factory = routes;
    }

    /** Routes for these settings (copied), whose routers are mounted. */
    public static JakartaRoutes routes(Settings settings) {
        if (factory == null) {
            try {
                Class.forName(JakartaRoutes.class.getName(), true, JakartaRoutes.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new IllegalStateException("JakartaRoutes is not on the class path", e);
            }
        }
        return factory.apply(settings);
    }
}
