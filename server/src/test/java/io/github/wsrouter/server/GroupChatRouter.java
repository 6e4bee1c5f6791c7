package io.github.wsrouter.server;

import io.github.wsrouter.Connection;
import io.github.wsrouter.ConnectionGroups;
import io.github.wsrouter.MessageRouter;
import io.github.wsrouter.RouteContext;

/**
 * A broadcasting router as a user would write it, on the public group API alone: rooms by the
 * {@code room} path parameter where the route has one, else the whole route; no onClose, no set
 * of its own. The contract suite holds it to the built-in router's broadcast guarantees.
 */
final class GroupChatRouter implements MessageRouter {

    final ConnectionGroups groups = ConnectionGroups.create();

    @Override
    public void onMount(RouteContext route) {
        groups.mount(route);
    }

    @Override
    public void onOpen(Connection connection) {
        String room = connection.pathParameter("room");
        if (room == null) {
            groups.add(connection);
        } else {
            groups.add(room, connection);
        }
    }

    @Override
    public void onText(Connection connection, String text) {
        String room = connection.pathParameter("room");
        if (room == null) {
            groups.broadcast(text);
        } else {
            groups.broadcastTo(room, text);
        }
    }
}
