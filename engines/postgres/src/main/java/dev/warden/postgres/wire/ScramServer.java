package dev.warden.postgres.wire;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * The server side of one SCRAM-SHA-256 exchange, without channel binding. {@link #first} answers the client-first
 * message, {@link #last} checks the proof and answers the server signature, or {@code null} when the proof is wrong.
 */
public final class ScramServer {
    private final Scram.Keys keys;
    private String clientFirstBare;
    private String serverFirst;
    private String nonce;

    public ScramServer(Scram.Keys keys) {
        this.keys = keys;
    }

    public byte[] first(byte[] clientFirst) throws ProtocolException {
        String s = new String(clientFirst, StandardCharsets.UTF_8);
        // gs2 header: "n,," (no binding) or "y,," (client could bind but we did not offer it); "p=" is refused.
        if (!(s.startsWith("n,,") || s.startsWith("y,,"))) throw new ProtocolException("unsupported SCRAM channel binding");
        clientFirstBare = s.substring(3);
        Map<String, String> a = Scram.attributes(clientFirstBare);
        String clientNonce = a.get("r");
        if (clientNonce == null || clientNonce.isEmpty()) throw new ProtocolException("SCRAM client nonce missing");
        nonce = clientNonce + Scram.nonce();
        serverFirst = "r=" + nonce + ",s=" + Scram.b64(keys.salt()) + ",i=" + keys.iterations();
        return serverFirst.getBytes(StandardCharsets.UTF_8);
    }

    public byte[] last(byte[] clientFinal) throws ProtocolException {
        if (serverFirst == null) throw new ProtocolException("SCRAM messages out of order");
        String s = new String(clientFinal, StandardCharsets.UTF_8);
        int p = s.lastIndexOf(",p=");
        if (p < 0) throw new ProtocolException("SCRAM proof missing");
        String withoutProof = s.substring(0, p);
        Map<String, String> a = Scram.attributes(withoutProof);
        String cb = a.get("c");
        if (!"biws".equals(cb) && !"eSws".equals(cb)) throw new ProtocolException("unsupported SCRAM channel binding");
        if (!nonce.equals(a.get("r"))) return null;
        byte[] proof = Scram.b64(s.substring(p + 3));
        String authMessage = clientFirstBare + "," + serverFirst + "," + withoutProof;
        byte[] clientSignature = Scram.hmac(keys.storedKey(), authMessage);
        if (proof.length != clientSignature.length) return null;
        byte[] clientKey = Scram.xor(proof, clientSignature);
        if (!MessageDigest.isEqual(Scram.sha256(clientKey), keys.storedKey())) return null;
        return ("v=" + Scram.b64(Scram.hmac(keys.serverKey(), authMessage))).getBytes(StandardCharsets.UTF_8);
    }
}
