package io.github.wsrouter.benchmarks;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.GlobalEventExecutor;
import java.net.InetSocketAddress;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The second baseline: the three routes written in Netty 4.2, the way its WebSocket server
 * examples show: per connection an {@code HttpServerCodec} and an {@code HttpObjectAggregator},
 * then, chosen by the request's path, a {@code WebSocketServerProtocolHandler} for that path and
 * a {@code SimpleChannelInboundHandler<TextWebSocketFrame>}; connections are registered when the
 * handshake completes ({@code HandshakeComplete}), broadcast goes through a {@code ChannelGroup}.
 * Same routes and wire formats as {@link BaselineServer}: {@code /echo} echoes, {@code /broadcast}
 * sends every message to every connection of the route, {@code /ws/{user}/} relays
 * {@code {"to":..,"message":..}} as {@code {"from":..,"message":..}} (Gson) to every connection of
 * the recipient. Echo and broadcast send the frame they received ({@code retain()}), as Netty's
 * own WebSocket test servers do, rather than decoding and encoding its text.
 *
 * <p>Defaults otherwise (NIO transport, pooled adaptive allocator, {@code TCP_NODELAY}, the
 * system's accept backlog), but one event-loop thread per core the JVM may use, which accepts and
 * serves the connections, like wsrouter's one IO thread per core (Netty's own default is two per
 * core, and its examples add a separate accepting group).
 */
public final class NettyServer implements BenchServer {

    private final String host;
    private final int requestedPort;
    private final EventLoopGroup group =
            new MultiThreadIoEventLoopGroup(Runtime.getRuntime().availableProcessors(), NioIoHandler.newFactory());
    /** Every upgraded connection (a channel group forgets a channel once it has closed). */
    private final ChannelGroup all = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);

    private final ChannelGroup broadcast = new DefaultChannelGroup(GlobalEventExecutor.INSTANCE);
    private final ConcurrentHashMap<String, Set<Channel>> users = new ConcurrentHashMap<>();
    private final Gson gson = new Gson();
    private final Echo echo = new Echo();
    private final Broadcast broadcastHandler = new Broadcast();
    private Channel server;

    public NettyServer(String host, int port) {
        this.host = host;
        this.requestedPort = port;
    }

    @Override
    public BenchServer start() {
        server = new ServerBootstrap()
                .group(group)
                .channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline()
                                .addLast(new HttpServerCodec())
                                .addLast(new HttpObjectAggregator(65536))
                                .addLast(new Routes());
                    }
                })
                .bind(host, requestedPort)
                .syncUninterruptibly()
                .channel();
        return this;
    }

    @Override
    public int port() {
        return ((InetSocketAddress) server.localAddress()).getPort();
    }

    @Override
    public int connectionCount() {
        return all.size();
    }

    @Override
    public void stop() {
        if (server != null) {
            server.close().syncUninterruptibly();
        }
        all.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
        group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
    }

    /** The upgrade request's path picks the route: its protocol handler and its frame handler. */
    private final class Routes extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (!(msg instanceof FullHttpRequest request)) {
                ctx.fireChannelRead(msg);
                return;
            }
            String uri = request.uri();
            int query = uri.indexOf('?');
            String path = query < 0 ? uri : uri.substring(0, query);
            ChannelPipeline pipeline = ctx.pipeline();
            if (path.equals("/echo")) {
                pipeline.addLast(new WebSocketServerProtocolHandler("/echo"), echo);
            } else if (path.equals("/broadcast")) {
                pipeline.addLast(new WebSocketServerProtocolHandler("/broadcast"), broadcastHandler);
            } else if (path.startsWith("/ws/") && user(path) != null) {
                WebSocketServerProtocolConfig config = WebSocketServerProtocolConfig.newBuilder()
                        .websocketPath("/ws")
                        .checkStartsWith(true)
                        .build();
                pipeline.addLast(new WebSocketServerProtocolHandler(config), new Directed(user(path)));
            } else {
                ReferenceCountUtil.release(msg);
                ctx.writeAndFlush(new DefaultFullHttpResponse(request.protocolVersion(), HttpResponseStatus.NOT_FOUND))
                        .addListener(f -> ctx.close());
                return;
            }
            pipeline.remove(this);
            ctx.fireChannelRead(msg);
        }
    }

    /** The user of a path {@code /ws/{user}/} (or {@code /ws/{user}}), or null. */
    private static String user(String path) {
        String[] parts = path.split("/");
        return parts.length == 3 && !parts[2].isEmpty() ? parts[2] : null; // "", "ws", user
    }

    private boolean upgraded(Object event, Channel channel) {
        if (event instanceof WebSocketServerProtocolHandler.HandshakeComplete) {
            all.add(channel);
            return true;
        }
        return false;
    }

    @ChannelHandler.Sharable
    private final class Echo extends SimpleChannelInboundHandler<TextWebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
            ctx.writeAndFlush(frame.retain());
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (!upgraded(event, ctx.channel())) {
                super.userEventTriggered(ctx, event);
            }
        }
    }

    @ChannelHandler.Sharable
    private final class Broadcast extends SimpleChannelInboundHandler<TextWebSocketFrame> {
        @Override
        protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
            broadcast.writeAndFlush(frame.retain()); // a duplicate per channel, released at the end
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (upgraded(event, ctx.channel())) {
                broadcast.add(ctx.channel());
            } else {
                super.userEventTriggered(ctx, event);
            }
        }
    }

    private final class Directed extends SimpleChannelInboundHandler<TextWebSocketFrame> {
        private final String user;

        Directed(String user) {
            this.user = user;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
            if (!upgraded(event, ctx.channel())) {
                super.userEventTriggered(ctx, event);
                return;
            }
            Channel channel = ctx.channel();
            users.computeIfAbsent(user, u -> ConcurrentHashMap.newKeySet()).add(channel);
            channel.closeFuture()
                    .addListener(f -> users.computeIfPresent(
                            user, (u, set) -> set.remove(channel) && set.isEmpty() ? null : set));
        }

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, TextWebSocketFrame frame) {
            JsonObject in;
            try {
                in = JsonParser.parseString(frame.text()).getAsJsonObject();
            } catch (RuntimeException e) {
                ctx.writeAndFlush(new TextWebSocketFrame("{\"error\":\"invalid_json\"}"));
                return;
            }
            JsonElement to = in.get("to");
            Set<Channel> targets = to == null ? null : users.get(to.getAsString());
            if (targets == null) {
                ctx.writeAndFlush(new TextWebSocketFrame("{\"error\":\"unknown_recipient\"}"));
                return;
            }
            JsonObject out = new JsonObject();
            out.addProperty("from", user);
            out.add("message", in.get("message"));
            String text = gson.toJson(out);
            for (Channel target : targets) {
                target.writeAndFlush(new TextWebSocketFrame(text));
            }
        }
    }
}
