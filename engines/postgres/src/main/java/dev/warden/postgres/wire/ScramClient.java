package dev.warden.postgres.wire;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/** The client side of SCRAM-SHA-256 toward the upstream, without channel binding. */
public final class ScramClient {
    private final String password;
    private final String clientFirstBare = "n=,r=" + Scram.nonce();
    private byte[] expectedServerSignature;
    private boolean serverVerified;

    public ScramClient(String password) {
        this.password = password;
    }

    public byte[] first() {
        return ("n,," + clientFirstBare).getBytes(StandardCharsets.UTF_8);
    }

    public byte[] last(byte[] serverFirstBytes) throws ProtocolException {
        String serverFirst = new String(serverFirstBytes, StandardCharsets.UTF_8);
        Map<String, String> a = Scram.attributes(serverFirst);
        String nonce = a.get("r");
        String clientNonce = clientFirstBare.substring(clientFirstBare.indexOf("r=") + 2);
        if (nonce == null || !nonce.startsWith(clientNonce)) throw new ProtocolException("upstream SCRAM nonce mismatch");
        int iterations;
        try {
            iterations = Integer.parseInt(a.getOrDefault("i", ""));
        } catch (NumberFormatException e) {
            throw new ProtocolException("upstream SCRAM iteration count missing");
        }
        if (iterations < 1 || iterations > 10_000_000) throw new ProtocolException("upstream SCRAM iteration count out of range");
        byte[] salted = Scram.saltedPassword(password, Scram.b64(a.getOrDefault("s", "")), iterations);
        byte[] clientKey = Scram.hmac(salted, "Client Key");
        String withoutProof = "c=biws,r=" + nonce;
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] proof = Scram.xor(clientKey, Scram.hmac(Scram.sha256(clientKey), authMessage));
        expectedServerSignature = Scram.hmac(Scram.hmac(salted, "Server Key"), authMessage);
        return (withoutProof + ",p=" + Scram.b64(proof)).getBytes(StandardCharsets.UTF_8);
    }

    public void verify(byte[] serverFinal) throws ProtocolException {
        Map<String, String> a = Scram.attributes(new String(serverFinal, StandardCharsets.UTF_8));
        String v = a.get("v");
        if (v == null || !MessageDigest.isEqual(Scram.b64(v), expectedServerSignature)) {
            throw new ProtocolException("the upstream server's SCRAM signature does not verify");
        }
        serverVerified = true;
    }

    /** Whether the server proved it knows the password (its final message verified). */
    public boolean serverVerified() {
        return serverVerified;
    }
}
