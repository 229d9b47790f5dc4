package dev.warden.core.config;

/** A person who may decide approval requests, with the token that proves it. */
public record ApproverConfig(String name, Secret token) {
}
