package io.github.wsrouter.server.docs;

// docs/jakarta.md's listener, as written there: DocsExamplesTest deploys it in a servlet container.
import io.github.wsrouter.*;
import io.github.wsrouter.server.jakarta.JakartaRoutes;
import jakarta.servlet.ServletContextEvent;
import jakarta.servlet.ServletContextListener;
import jakarta.servlet.annotation.WebListener;
import jakarta.websocket.DeploymentException;
import jakarta.websocket.server.ServerContainer;

@WebListener
public final class ChatEndpoints implements ServletContextListener {
    @Override
    public void contextInitialized(ServletContextEvent event) {
        ServerContainer container = (ServerContainer) event.getServletContext()
                .getAttribute(ServerContainer.class.getName());
        try {
            container.addEndpoint(JakartaRoutes.endpointConfig("/ws/{username}/", DirectedJsonRouter.create()));
            container.addEndpoint(JakartaRoutes.endpointConfig("/echo/", EchoRouter.create()));
        } catch (DeploymentException e) {
            throw new IllegalStateException(e);
        }
    }
}
