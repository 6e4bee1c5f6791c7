package io.github.wsrouter.examples;

import io.github.wsrouter.DirectedJsonRouter;
import io.github.wsrouter.HandshakeDecision;
import io.github.wsrouter.HandshakeHook;
import io.github.wsrouter.HandshakeRequest;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * HMAC-signed user tokens, for {@code --require-token}: {@code base64url(user).expiry.base64url(mac)}
 * where the MAC is HMAC-SHA256 of {@code user|expiry} under the server's secret. A token names its
 * user and cannot be forged or altered without the secret.
 *
 * <p>In this example anyone may ask {@code POST /token} for a token for any name: it stands where a
 * real application's login would issue them. What it shows is the other half: the handshake hook
 * admits only a valid token, and the directed route refuses a path name that is not the token's.
 */
final class Tokens implements HandshakeHook {

    static final Duration LIFETIME = Duration.ofHours(12);
    /** The subprotocol the chat page offers beside its token, and the one echoed. */
    static final String CHAT_PROTOCOL = "wsrouter.chat";
    /** The prefix of the subprotocol that carries a token. */
    static final String TOKEN_PROTOCOL_PREFIX = "token.";

    private final SecretKeySpec key;
    private final Clock clock;

    Tokens(String secret, Clock clock) {
        if (secret == null || secret.isBlank()) {
            throw new IllegalArgumentException("the token secret must not be blank");
        }
        this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
        this.clock = clock;
    }

    /** A token for a user, valid for {@link #LIFETIME}. */
    String issue(String user) {
        long expiry = clock.instant().plus(LIFETIME).getEpochSecond();
        String name = Base64.getUrlEncoder().withoutPadding().encodeToString(user.getBytes(StandardCharsets.UTF_8));
        return name + "." + expiry + "." + mac(user + "|" + expiry);
    }

    /** The user a token names, or {@code null} if it is malformed, forged or expired. */
    String userOf(String token) {
        if (token == null) {
            return null;
        }
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3) {
            return null;
        }
        try {
            String user = new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8);
            long expiry = Long.parseLong(parts[1]);
            boolean genuine = MessageDigest.isEqual(
                    mac(user + "|" + expiry).getBytes(StandardCharsets.US_ASCII),
                    parts[2].getBytes(StandardCharsets.US_ASCII));
            return genuine && clock.instant().getEpochSecond() < expiry ? user : null;
        } catch (IllegalArgumentException malformed) {
            return null;
        }
    }

    /**
     * Admits a handshake with a valid token, as its user; 401 otherwise. A browser page offers the
     * token as a subprotocol {@code token.<token>} beside {@value #CHAT_PROTOCOL}, which is echoed
     * (a browser cannot set headers on a WebSocket handshake, and a URL ends up in logs); other
     * clients may also send it as the {@code token} query parameter.
     */
    @Override
    public HandshakeDecision onHandshake(HandshakeRequest request) {
        String offered = null;
        for (String subprotocol : request.subprotocols()) {
            if (subprotocol.startsWith(TOKEN_PROTOCOL_PREFIX)) {
                offered = subprotocol;
                break;
            }
        }
        String token =
                offered != null ? offered.substring(TOKEN_PROTOCOL_PREFIX.length()) : request.queryParameter("token");
        String user = userOf(token);
        if (user == null) {
            return HandshakeDecision.reject(401, "a valid token is required: POST /token");
        }
        HandshakeDecision accepted = HandshakeDecision.acceptAs(user);
        if (offered == null) {
            return accepted;
        }
        // RFC 6455: a server echoes one of the offered subprotocols; prefer the one that is not a secret
        return accepted.withSubprotocol(request.subprotocols().contains(CHAT_PROTOCOL) ? CHAT_PROTOCOL : offered);
    }

    /** Whether a name may have a token: the directed route's user names. */
    static boolean isValidUser(String user) {
        return user != null
                && DirectedJsonRouter.DEFAULT_USER_NAME.matcher(user).matches();
    }

    private String mac(String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return Base64.getUrlEncoder()
                    .withoutPadding()
                    .encodeToString(mac.doFinal(data.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }
}
