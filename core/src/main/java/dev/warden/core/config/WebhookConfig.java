package dev.warden.core.config;

import java.net.URI;

/**
 * Where new approval requests are announced.
 *
 * @param url    the endpoint that receives a JSON POST
 * @param format {@code json} (Warden's own payload) or {@code slack} (an incoming-webhook message with a link)
 * @param secret when set, each body is signed: header {@code X-Warden-Signature: sha256=<hex HMAC-SHA256>}
 */
public record WebhookConfig(URI url, Format format, Secret secret) {
    public enum Format { JSON, SLACK }
}
