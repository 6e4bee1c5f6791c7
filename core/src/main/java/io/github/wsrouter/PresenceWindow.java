package io.github.wsrouter;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * What one window of presence changes across servers tells a set of connections, for the route's
 * users ({@link DirectedJsonRouter}) and for a room ({@link JsonRooms}): nothing when the members
 * are the same as before; one {@code join} or {@code leave} for one change, not told to the
 * connections of the user it is about; one {@code {"presence": "changes", "joined": [...], "left":
 * [...]}} for more. A room's objects carry {@code "room"}.
 */
final class PresenceWindow {

    private PresenceWindow() {}

    /** Tells the connections what changed from {@code before} to {@code now}; {@code room} null for the route's users. */
    static void tell(Gson gson, String room, Set<String> before, Set<String> now, Collection<Connection> to) {
        List<String> joined = new ArrayList<>();
        List<String> left = new ArrayList<>();
        for (String user : new TreeSet<>(now)) {
            if (!before.contains(user)) {
                joined.add(user);
            }
        }
        for (String user : new TreeSet<>(before)) {
            if (!now.contains(user)) {
                left.add(user);
            }
        }
        if (joined.isEmpty() && left.isEmpty()) {
            return;
        }
        JsonObject notice = new JsonObject();
        String about = null;
        if (joined.size() + left.size() == 1) {
            about = joined.isEmpty() ? left.get(0) : joined.get(0);
            notice.addProperty("presence", joined.isEmpty() ? "leave" : "join");
            if (room != null) {
                notice.addProperty(JsonRooms.ROOM, room);
            }
            notice.addProperty("user", about);
        } else {
            notice.addProperty("presence", "changes");
            if (room != null) {
                notice.addProperty(JsonRooms.ROOM, room);
            }
            JsonArray in = new JsonArray();
            joined.forEach(in::add);
            JsonArray out = new JsonArray();
            left.forEach(out::add);
            notice.add("joined", in);
            notice.add("left", out);
        }
        String text = gson.toJson(notice);
        for (Connection connection : to) {
            if (about == null || !about.equals(connection.identity())) {
                connection.sendText(text);
            }
        }
    }
}
