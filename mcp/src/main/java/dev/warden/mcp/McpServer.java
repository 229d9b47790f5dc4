package dev.warden.mcp;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.warden.core.Gate;
import dev.warden.core.config.DatabaseConfig;
import dev.warden.core.config.McpConfig;
import dev.warden.core.config.WardenConfig;
import dev.warden.core.engine.Engine;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.HttpServletStreamableServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import jakarta.servlet.DispatcherType;
import java.io.IOException;
import java.net.URI;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.function.Function;
import java.util.function.Predicate;
import org.eclipse.jetty.ee11.servlet.FilterHolder;
import org.eclipse.jetty.ee11.servlet.ServletContextHandler;
import org.eclipse.jetty.ee11.servlet.ServletHolder;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * The MCP server inside the Warden service: streamable HTTP at {@code /mcp} (the SDK's servlet transport on an
 * embedded Jetty), every request authenticated by an agent's bearer token, every tool call through the {@link Gate}.
 */
public final class McpServer implements AutoCloseable {
    public static final String PATH = "/mcp";

    private final Server jetty;
    private final McpSyncServer mcp;
    private final UpstreamPool pool;
    private final URI endpoint;

    private McpServer(Server jetty, McpSyncServer mcp, UpstreamPool pool, URI endpoint) {
        this.jetty = jetty;
        this.mcp = mcp;
        this.pool = pool;
        this.endpoint = endpoint;
    }

    /**
     * Starts listening on {@code config.mcp().listen()} (port 0 picks a free port; {@link #endpoint()} tells which).
     *
     * @param engines        the engine of a database (its upstream sessions run the statements)
     * @param disabledAgents agents the kill switch turned off; refused even with the right token
     * @param consoleUrl     where people approve requests, for messages to agents; {@code null} when no console runs
     */
    public static McpServer start(Gate gate, WardenConfig config, Function<DatabaseConfig, Engine> engines,
                                  Predicate<String> disabledAgents, String consoleUrl) throws IOException {
        McpConfig mc = config.mcp().orElseThrow(() -> new IllegalArgumentException("the configuration has no 'mcp' section"));
        UpstreamPool pool = new UpstreamPool(engines, 8);
        DatabaseTools tools = new DatabaseTools(gate, config, mc, pool, consoleUrl);
        AgentTokens tokens = new AgentTokens(config.agents(), disabledAgents);

        JacksonMcpJsonMapper json = new JacksonMcpJsonMapper(new ObjectMapper());
        HttpServletStreamableServerTransportProvider transport = HttpServletStreamableServerTransportProvider.builder()
                .jsonMapper(json)
                .mcpEndpoint(PATH)
                // A second fence: JsonRpcFilter reads a body without a length up to this and refuses it with 413
                // there (BodyLimitFilter refuses a declared one before it is read).
                .maxRequestSize((int) mc.maxRequestBytes())
                .contextExtractor(request -> McpTransportContext.create(Map.of(
                        ToolSpecs.AGENT, String.valueOf(request.getAttribute(BearerFilter.AGENT_ATTRIBUTE)),
                        ToolSpecs.CLIENT, request.getRemoteAddr() + ":" + request.getRemotePort())))
                .build();
        McpSyncServer mcp = io.modelcontextprotocol.server.McpServer.sync(transport)
                .jsonMapper(json)
                .serverInfo("warden", "0.1.0")
                .instructions("Warden is the gate to production databases. Every SQL text is classified, decided by a "
                        + "policy and recorded. Start with list_databases and describe; use query for SQL. A denial is the "
                        + "final answer for that operation; a statement that needs approval returns a request id.")
                .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
                .tools(ToolSpecs.all(tools))
                .build();

        QueuedThreadPool threads = new QueuedThreadPool();
        threads.setName("warden-mcp");
        threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
        Server jetty = new Server(threads);
        ServerConnector connector = connector(jetty, mc);
        connector.setHost(mc.listen().host());
        connector.setPort(mc.listen().port());
        jetty.addConnector(connector);

        ServletContextHandler context = new ServletContextHandler();
        context.setContextPath("/");
        // In this order: a foreign page is refused before anything else, the token included; a declared oversized
        // body before the token is checked; nothing reads a body before the token is; a body that is no JSON-RPC
        // message is answered before the transport sees it.
        for (jakarta.servlet.Filter filter : List.of(new OriginFilter(AllowedOrigins.of(mc)),
                new BodyLimitFilter(mc.maxRequestBytes()), new BearerFilter(tokens, gate), new JsonRpcFilter(mc.maxRequestBytes()))) {
            FilterHolder holder = new FilterHolder(filter);
            holder.setAsyncSupported(true);
            context.addFilter(holder, "/*", EnumSet.of(DispatcherType.REQUEST));
        }
        ServletHolder servlet = new ServletHolder(transport);
        servlet.setAsyncSupported(true);
        context.addServlet(servlet, PATH);
        jetty.setHandler(context);
        try {
            jetty.start();
        } catch (Exception e) {
            pool.close();
            mcp.close();
            String where = "the MCP endpoint cannot listen on " + mc.listen() + ": ";
            for (Throwable t = e; t != null; t = t.getCause()) {
                // A taken port is the user's to fix, not an internal error: say so as the console and the wire do.
                if (t instanceof java.net.BindException b) throw new java.net.BindException(where + b.getMessage());
            }
            throw new IOException(where + e.getMessage(), e);
        }
        String scheme = mc.tls().isPresent() ? "https" : "http";
        String host = mc.listen().host().contains(":") ? "[" + mc.listen().host() + "]" : mc.listen().host();
        URI endpoint = URI.create(scheme + "://" + host + ":" + connector.getLocalPort() + PATH);
        return new McpServer(jetty, mcp, pool, endpoint);
    }

    private static ServerConnector connector(Server jetty, McpConfig mc) throws IOException {
        if (mc.tls().isEmpty()) return new ServerConnector(jetty);
        SslContextFactory.Server ssl = new SslContextFactory.Server();
        ssl.setKeyStore(PemKeyStore.load(mc.tls().get().cert(), mc.tls().get().key()));
        ssl.setKeyStorePassword(PemKeyStore.PASSWORD);
        HttpConfiguration https = new HttpConfiguration();
        https.addCustomizer(new SecureRequestCustomizer());
        return new ServerConnector(jetty, new SslConnectionFactory(ssl, "http/1.1"), new HttpConnectionFactory(https));
    }

    /** The endpoint agents use, with the port actually bound. */
    public URI endpoint() {
        return endpoint;
    }

    @Override
    public void close() {
        try {
            mcp.closeGracefully();
        } catch (RuntimeException ignored) {
            // Closing anyway.
        }
        try {
            jetty.stop();
        } catch (Exception ignored) {
            // Nothing more to do while stopping.
        }
        pool.close();
    }
}
